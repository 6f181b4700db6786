using Rvpt.Clip;
using TorchSharp.Modules;

namespace Rvpt.Backdoor;

/// <summary>The parameters of the towers a fine-tune trains (<see cref="ClipTowers"/>), in the model's order.</summary>
internal static class ClipTowerParameters
{
    /// <summary><c>visual.*</c> for <see cref="ClipTowers.Vision"/>; everything else but <c>logit_scale</c> for <see cref="ClipTowers.Text"/>; all for <see cref="ClipTowers.All"/>.</summary>
    public static IEnumerable<Parameter> Select(ClipModel clip, ClipTowers towers) => SelectNamed(clip, towers).Select(p => p.parameter);

    /// <summary>As <see cref="Select"/>, with each parameter's name.</summary>
    public static IEnumerable<(string name, Parameter parameter)> SelectNamed(ClipModel clip, ClipTowers towers) => clip.named_parameters()
        .Where(p => towers switch
        {
            ClipTowers.Vision => p.name.StartsWith("visual.", StringComparison.Ordinal),
            ClipTowers.Text => !p.name.StartsWith("visual.", StringComparison.Ordinal) && p.name != "logit_scale",
            _ => true,
        });
}
