using System.CommandLine;
using Rvpt.Backdoor;

namespace Rvpt.Cli.Commands;

/// <summary><c>rvpt report merge</c>: joins cell reports (results.json of suite, evaluate or sweep cells) into one table, CSV, JSON and charts.</summary>
internal static class ReportCommand
{
    public static Command Create(GlobalOptions global)
    {
        var inputs = new Argument<string[]>("RESULTS") { Description = "results.json files, or folders searched recursively for them.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Folder for results.md, results.csv, results.json, asr.png and ca.png.", Required = true };
        var title = new Option<string?>("--title") { Description = "Title of the table (default: the first report's)." };
        var merge = new Command("merge", "Merge cell results into the ASR% (CA%) table, CSV, JSON and charts.") { inputs, output, title };
        RvptCli.SetWork(merge, global, (parse, context, _) =>
        {
            var files = new List<string>();
            foreach (var input in parse.GetValue(inputs)!)
            {
                if (File.Exists(input)) files.Add(input);
                else if (Directory.Exists(input))
                {
                    var found = Directory.EnumerateFiles(input, "results.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
                    if (found.Count == 0) throw new CliInputException($"RESULTS: folder '{input}' holds no results.json (expected the output folders of rvpt suite or rvpt evaluate --out).");
                    files.AddRange(found);
                }
                else throw new CliInputException($"RESULTS: '{input}' does not exist (expected a results.json file or a folder of them).");
            }
            var outDir = parse.GetValue(output)!;
            var outResults = Path.GetFullPath(Path.Combine(outDir, "results.json"));
            files = files.Where(f => Path.GetFullPath(f) != outResults).Distinct().ToList();
            DefenceReport merged;
            try
            {
                merged = DefenceReportJson.Merge(files.Select(f => (f, DefenceReportJson.Read(f))), parse.GetValue(title));
            }
            catch (InvalidDataException e)
            {
                throw new CliInputException($"RESULTS: {e.Message}", e);
            }
            merged.Save(outDir);
            ReportCharts.Write(merged, outDir);
            context.Note($"Merged {merged.Cells.Count} cells from {files.Count} file(s) into {Path.Combine(outDir, "results.md")}, results.csv, results.json, asr.png, ca.png");
            if (context.Json) context.WriteJson(merged.ToJson());
            else context.Result(merged.ToMarkdown());
            return ExitCodes.Success;
        });
        return new Command("report", "Reports: merge cell results.") { merge };
    }
}
