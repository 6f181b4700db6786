using System.CommandLine;
using Rvpt.Backdoor.Lab;

namespace Rvpt.Cli.Lab;

/// <summary>The options every <c>rvpt lab</c> command takes: the model cache, the quick settings and the device.</summary>
internal sealed class LabOptions
{
    public Option<string?> Cache { get; } = new("--cache") { Description = "Model cache folder (default $RVPT_CACHE, else ~/.cache/rvpt); the lab uses its synthetic/ sub-folder." };
    public Option<bool> Quick { get; } = new("--quick") { Description = "Small, fast settings (a smoke test: the models are barely trained, the numbers mean nothing)." };
    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };

    public void AddTo(Command c)
    {
        c.Add(Cache);
        c.Add(Quick);
        c.Add(Device);
    }

    /// <summary>The lab's model store: the <c>synthetic/</c> sub-folder of <c>--cache</c> or of the default cache.</summary>
    public SyntheticModelStore Store(ParseResult parse, CliContext context) =>
        new(Path.Combine(parse.GetValue(Cache) ?? SyntheticModelStore.DefaultRoot(), "synthetic"), context.Logger);

    public SyntheticBackdoorLab Open(ParseResult parse, CliContext context) =>
        new(Store(parse, context), parse.GetValue(Quick) ? SyntheticLabOptions.Quick : new SyntheticLabOptions(), context.Logger);
}
