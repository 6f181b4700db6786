using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Rvpt.Clip;
using Spectre.Console;

namespace Rvpt.Cli.Commands;

/// <summary><c>rvpt zero-shot</c>: top-k predictions of CLIP (optionally with saved RVPT prompts) for image files.</summary>
internal static class ZeroShotCommand
{
    public static Command Create(GlobalOptions global)
    {
        var model = new ModelOptions();
        var images = new Option<string>("--images") { Description = "An image file, or a folder whose image files (recursively) are classified.", Required = true };
        var classes = new Option<string?>("--classes") { Description = "Class names, one per line. Optional with --prompts (default: the classes the prompts were trained on)." };
        var templates = new Option<string?>("--templates") { Description = "photo (\"a photo of a {}.\"), imagenet (CLIP's 80 templates) or a file with one template per line. Default: the prompts' own with --prompts, else photo." };
        var prompts = new Option<string?>("--prompts") { Description = "A prompt checkpoint saved by `rvpt defend` (classify with the defended encoder)." };
        var top = new Option<int>("--top") { Description = "Predictions per image.", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch") { Description = "Images per forward pass.", DefaultValueFactory = _ => 32 };
        var format = new Option<string>("--format") { Description = $"Output: {OutputFormats.Help}.", DefaultValueFactory = _ => "table" };
        var command = new Command("zero-shot", "Classify images with CLIP zero-shot (or with RVPT prompts): top-k classes and probabilities.");
        model.AddTo(command);
        foreach (var o in new Option[] { images, classes, templates, prompts, top, batch, format }) command.Add(o);

        RvptCli.SetWork(command, global, (parse, context, ct) =>
        {
            var request = model.Read(parse);
            var imagePath = parse.GetValue(images)!;
            CliChecks.PathExists(imagePath, "--images", "an image file or a folder of images");
            var files = ListImages(imagePath);
            var classNames = parse.GetValue(classes) is { } c ? CliChecks.ClassNamesFile(c) : null;
            var promptsPath = parse.GetValue(prompts);
            if (promptsPath is not null) CliChecks.FileExists(promptsPath, "--prompts", "a prompt checkpoint (.safetensors) written by rvpt defend");
            else if (classNames is null) throw new CliInputException("--classes is required without --prompts (a file with one class name per line).");
            var templateList = parse.GetValue(templates) is { } t ? CliChecks.Templates(t) : null;
            int k = CliChecks.Positive(parse.GetValue(top), "--top");
            int batchSize = CliChecks.Positive(parse.GetValue(batch), "--batch");
            var output = OutputFormats.Parse(parse.GetValue(format)!, context.Json);

            using var clip = request.Load(context.Logger);
            using var classifier = Classifiers.Open(clip, promptsPath, classNames, templateList);
            k = Math.Min(k, classifier.ClassNames.Count);
            var predictions = ProgressDisplay.Run(context, $"Classifying {files.Count} image(s)", report =>
            {
                var all = new List<IReadOnlyList<ZeroShotPrediction>>(files.Count);
                for (int start = 0; start < files.Count; start += batchSize)
                {
                    ct.ThrowIfCancellationRequested();
                    var chunk = files.Skip(start).Take(batchSize).ToList();
                    try
                    {
                        all.AddRange(classifier.Classifier.Classify(chunk, k, batchSize));
                    }
                    catch (InvalidDataException e)
                    {
                        throw new CliInputException($"--images: {e.Message}", e);
                    }
                    report((double)all.Count / files.Count, null);
                }
                return all;
            });
            Write(context, output, files, predictions, request.Path, promptsPath);
            return ExitCodes.Success;
        });
        return command;
    }

    internal static IReadOnlyList<string> ListImages(string path)
    {
        if (File.Exists(path)) return [Path.GetFullPath(path)];
        var extensions = ImageFolderOptions.DefaultExtensions;
        var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.') && extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Select(Path.GetFullPath)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            throw new CliInputException($"--images '{path}' holds no image files (looked for {string.Join(" ", extensions)}, recursively).");
        return files;
    }

    private static void Write(CliContext context, OutputFormat format, IReadOnlyList<string> files, IReadOnlyList<IReadOnlyList<ZeroShotPrediction>> predictions,
        string model, string? prompts)
    {
        switch (format)
        {
            case OutputFormat.Json:
                var array = new JsonArray();
                for (int i = 0; i < files.Count; i++)
                {
                    array.Add(new JsonObject
                    {
                        ["image"] = files[i],
                        ["top"] = new JsonArray(predictions[i].Select(p => (JsonNode)new JsonObject
                        {
                            ["class"] = p.ClassName, ["index"] = p.ClassIndex, ["probability"] = p.Probability,
                        }).ToArray()),
                    });
                }
                context.WriteJson(new JsonObject { ["model"] = model, ["prompts"] = prompts, ["predictions"] = array }.ToJsonString(JsonOutput.Indented));
                break;
            case OutputFormat.Csv:
                var csv = new StringBuilder("image,rank,class,index,probability\n");
                for (int i = 0; i < files.Count; i++)
                    for (int r = 0; r < predictions[i].Count; r++)
                        csv.Append(CultureInfo.InvariantCulture, $"{OutputFormats.Csv(files[i])},{r + 1},{OutputFormats.Csv(predictions[i][r].ClassName)},{predictions[i][r].ClassIndex},{predictions[i][r].Probability.ToString("R", CultureInfo.InvariantCulture)}\n");
                context.Result(csv.ToString());
                break;
            default:
                var table = new Table().AddColumn("image").AddColumn("prediction").AddColumn(new TableColumn("probability").RightAligned());
                for (int i = 0; i < files.Count; i++)
                    for (int r = 0; r < predictions[i].Count; r++)
                        table.AddRow(Markup.Escape(r == 0 ? Path.GetFileName(files[i]) : ""), Markup.Escape(predictions[i][r].ClassName),
                            predictions[i][r].Probability.ToString("P1", CultureInfo.InvariantCulture));
                context.Out.Write(table);
                break;
        }
    }
}
