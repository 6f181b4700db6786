// Fault-test helper: trains TinyTraining's prompts and writes them to --out.
//   --out <file>            where the final prompts go (safetensors, key "prompts")
//   --state <dir>           checkpoint folder (resumes from it when it holds a state)
//   --every <n>             also checkpoint every n steps within an epoch
//   --epochs <n>            epochs (default 3)
//   --die-after-step <n>    kill this process (SIGKILL, no clean-up) right after the n-th step it runs
//   --threads <n>           libtorch intra-op threads (default: libtorch's choice)
// Prints "step <epoch> <step>" after every step and "done" at the end, flushing each line.
using System.Diagnostics;
using System.Globalization;
using Rvpt;
using Rvpt.Clip;
using Rvpt.TrainingHelper;
using TorchSharp;
using static TorchSharp.torch;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
    options[args[i].TrimStart('-')] = args[i + 1];
int Number(string key, int fallback) => options.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
if (!options.TryGetValue("out", out var output))
{
    Console.Error.WriteLine("usage: Rvpt.TrainingHelper --out <file> [--state <dir>] [--every <n>] [--epochs <n>] [--die-after-step <n>] [--threads <n>]");
    return 2;
}
if (options.ContainsKey("threads"))
    torch.set_num_threads(Number("threads", 1));

var vocabulary = Path.Combine(Path.GetTempPath(), "rvpt-helper-" + Guid.NewGuid().ToString("N"));
try
{
    using var clip = TinyTraining.Model(vocabulary);
    using var data = TinyTraining.Data();
    using var prompts = TinyTraining.Prompts(clip);
    var builder = TinyTraining.Trainer(clip, prompts, Number("epochs", 3)).CheckpointEverySteps(Number("every", 0));
    if (options.TryGetValue("state", out var state))
        builder.WithCheckpointDirectory(state);
    var dieAfter = Number("die-after-step", 0);
    var stepsRun = 0;
    var summary = builder.Build().Fit(data, new LineProgress(p =>
    {
        Console.Out.WriteLine($"step {p.Epoch} {p.Step}");
        Console.Out.Flush();
        if (++stepsRun == dieAfter)
            Process.GetCurrentProcess().Kill(); // as abrupt as a crash or an OOM kill: no finally blocks, no flush
    }));
    SafetensorsFile.Save(output, new Dictionary<string, Tensor> { ["prompts"] = prompts.Prompts });
    Console.Out.WriteLine($"done {summary.ResumedFromEpoch} {summary.ResumedFromStep} {summary.Steps}");
    return 0;
}
finally
{
    try { Directory.Delete(vocabulary, recursive: true); } catch (IOException) { }
}

/// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class LineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
