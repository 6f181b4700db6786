using Rvpt.Backdoor;

namespace Rvpt.Cli;

/// <summary>
/// The <c>--trigger</c> values: the library's triggers by name at the paper's settings (sizes at 224 px, scaled to the
/// model's input), a saved BadCLIP patch, or a trigger image: <c>patch:FILE.png</c> pastes the image as a BadNets patch
/// (16 px at 224, random position as CleanCLIP's code), <c>blend:FILE.png</c> blends it in with ratio 0.2 (Blended).
/// </summary>
internal static class TriggerSpec
{
    public const string Help = "badnets | blended | wanet | sig | trojvqa | badclip:FILE.safetensors | patch:FILE.png | blend:FILE.png";

    /// <summary>Creates the trigger; the caller disposes it when it is <see cref="IDisposable"/>.</summary>
    public static ITrigger Create(string spec, string option = "--trigger")
    {
        var text = spec.Trim();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        // "C:\x.png" on Windows has a colon at 1: only known prefixes count.
        var kind = (colon > 1 ? text[..colon] : text).ToLowerInvariant();
        var file = colon > 1 ? text[(colon + 1)..] : null;
        switch (kind)
        {
            case "badnets" when file is null: return new BadNetsTrigger();
            case "blended" when file is null: return new BlendedTrigger();
            case "wanet" when file is null: return new WaNetTrigger();
            case "sig" when file is null: return new SigTrigger();
            case "trojvqa" when file is null: return new TrojVqaTrigger();
            case "badclip" when file is not null:
                CliChecks.FileExists(file, option, "a BadCLIP patch saved with BadClipPatch.Save");
                return Wrap(() => BadClipPatch.Load(file), option, file);
            case "patch" when file is not null:
                CliChecks.FileExists(file, option, "a patch image (PNG, JPEG, ...)");
                return Wrap(() => new BadNetsTrigger(new BadNetsOptions { Pattern = PatchPattern.FromFile(file) }), option, file);
            case "blend" when file is not null:
                CliChecks.FileExists(file, option, "an image to blend in (PNG, JPEG, ...)");
                return Wrap(() => new BlendedTrigger(BlendedOptions.FromFile(file)), option, file);
        }
        throw new CliInputException($"{option} '{spec}' is not a trigger; expected {Help}.");
    }

    /// <summary>Checks a spec without keeping the trigger (for planning).</summary>
    public static string Name(string spec, string option = "--trigger")
    {
        var trigger = Create(spec, option);
        try
        {
            return trigger.Name;
        }
        finally
        {
            (trigger as IDisposable)?.Dispose();
        }
    }

    private static ITrigger Wrap(Func<ITrigger> create, string option, string file)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or NotSupportedException)
        {
            throw new CliInputException($"{option}: '{file}' cannot be used: {e.Message}", e);
        }
    }
}
