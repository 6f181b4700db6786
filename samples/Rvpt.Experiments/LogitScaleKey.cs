using Rvpt.Clip;
using static TorchSharp.torch;

/// <summary>The <c>ls</c> key of <c>calib</c> and <c>gateb</c>: set a loaded clean model's exp(logit_scale), e.g. to CLIP's 100.</summary>
internal static class LogitScaleKey
{
    /// <summary>Sets <paramref name="clip"/>'s logit scale to the key's value if it is given; "" keeps the learned one.</summary>
    public static void Apply(ClipModel clip, Dictionary<string, string> a)
    {
        if (a["ls"] == "") return;
        using (no_grad()) clip.LogitScale.fill_(Math.Log(a.Double("ls")));
        Console.WriteLine($"logit scale set to {Math.Exp(clip.LogitScale.item<float>()):F2}");
    }
}
