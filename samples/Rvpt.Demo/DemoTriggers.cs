using Rvpt.Backdoor;

namespace Rvpt.Demo;

/// <summary>The triggers --attack accepts, at the paper's settings (sizes at 224 px, scaled to the model's input).</summary>
internal static class DemoTriggers
{
    public const string Help = "badnets | blended | wanet | sig | trojvqa | badclip:<patch.safetensors>";

    public static ITrigger Create(string attack)
    {
        var lower = attack.Trim().ToLowerInvariant();
        if (lower.StartsWith("badclip:", StringComparison.Ordinal))
        {
            var path = attack.Trim()[8..];
            if (!File.Exists(path)) throw new DemoInputException($"BadCLIP patch file '{path}' does not exist (save one with BadClipPatch.Save).");
            return BadClipPatch.Load(path);
        }
        return lower switch
        {
            "badnets" => new BadNetsTrigger(),
            "blended" => new BlendedTrigger(),
            "wanet" => new WaNetTrigger(),
            "sig" => new SigTrigger(),
            "trojvqa" => new TrojVqaTrigger(),
            _ => throw new DemoInputException($"Unknown --attack '{attack}'; expected {Help}."),
        };
    }
}
