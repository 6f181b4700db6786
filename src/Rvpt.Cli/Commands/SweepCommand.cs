using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Rvpt.Backdoor;

namespace Rvpt.Cli.Commands;

/// <summary>
/// <c>rvpt sweep plan</c>: writes one <c>rvpt suite</c> command per (attack x defence x seed) cell, each writing its own
/// report into its own folder, so a study runs on many machines (GNU parallel, a Slurm job array, Kubernetes Jobs) and
/// <c>rvpt report merge</c> joins the cells into one table.
/// </summary>
internal static class SweepCommand
{
    public static Command Create(GlobalOptions global)
    {
        var options = new SuiteOptions();
        var attacks = new Option<string>("--attacks") { Description = $"Comma-separated triggers, one per attack: {TriggerSpec.Help}.", Required = true };
        var target = new Option<string>("--target") { Description = "The attacks' target class (a class folder name).", Required = true };
        var results = new Option<string>("--results") { Description = "Folder under which every cell writes its own report folder.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The jobs file: one rvpt command per line.", Required = true };
        var plan = new Command("plan", "Write one rvpt command per (attack x defence x seed) cell into a jobs file.");
        options.AddTo(plan, withTrigger: false);
        foreach (var o in new Option[] { attacks, target, results, output }) plan.Add(o);
        RvptCli.SetWork(plan, global, (parse, context, _) =>
        {
            var triggers = parse.GetValue(attacks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (triggers.Length == 0) throw new CliInputException("--attacks needs at least one trigger.");
            var names = triggers.Select(t => TriggerSpec.Name(t, "--attacks")).ToArray(); // checks every trigger now, not on the cluster
            var resultsDir = Path.GetFullPath(parse.GetValue(results)!);
            var baseSettings = options.Read(parse, triggers[0], parse.GetValue(target)!, resultsDir);
            var jobs = Plan(baseSettings, triggers, names, resultsDir);
            var jobsFile = parse.GetValue(output)!;
            AtomicText.Write(jobsFile, string.Concat(jobs.Select(j => j.Line + "\n")));
            if (context.Json)
            {
                context.WriteJson(new JsonObject
                {
                    ["jobs_file"] = Path.GetFullPath(jobsFile),
                    ["jobs"] = new JsonArray(jobs.Select(j => (JsonNode)new JsonObject { ["command"] = j.Line, ["result"] = j.Result }).ToArray()),
                }.ToJsonString(JsonOutput.Indented));
            }
            else
            {
                context.Result($"Wrote {jobs.Count} jobs to {jobsFile}. Run them anywhere, e.g. `parallel -j 4 < {jobsFile}`, then `rvpt report merge {resultsDir} --out <report folder>`.\n");
            }
            return ExitCodes.Success;
        });
        return new Command("sweep", "Plan a study as independent jobs (one per attack x defence x seed).") { plan };
    }

    /// <summary>The jobs: per attack, defence and seed (the undefended model once per attack, it has no seed).</summary>
    internal static List<(string Line, string Result)> Plan(SuiteSettings s, IReadOnlyList<string> triggers, IReadOnlyList<string> names, string resultsDir)
    {
        var jobs = new List<(string, string)>();
        for (int a = 0; a < triggers.Count; a++)
        {
            foreach (var defence in s.Defences)
            {
                var seeds = defence == DefenceKind.None ? [s.Seeds[0]] : s.Seeds;
                foreach (var seed in seeds)
                {
                    var cell = defence == DefenceKind.None ? $"{Slug(names[a])}-none" : $"{Slug(names[a])}-{SuiteOptions.Name(defence)}-seed{seed}";
                    var folder = Path.Combine(resultsDir, cell);
                    var settings = s with { Trigger = triggers[a], Defences = [defence], Seeds = [seed], Out = folder };
                    jobs.Add((ShellWords.Join(["rvpt", .. SuiteOptions.ToArguments(settings)]), Path.Combine(folder, "results.json")));
                }
            }
        }
        return jobs;
    }

    private static string Slug(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text.ToLowerInvariant()) sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        return sb.ToString();
    }
}
