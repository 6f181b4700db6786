using System.CommandLine;
using System.Text.Json.Nodes;
using Rvpt.Clip;

namespace Rvpt.Cli.Commands;

/// <summary>
/// <c>rvpt convert</c>: any checkpoint the library reads (OpenAI/OpenCLIP safetensors or zip pickles, OpenCLIP and
/// Hugging Face folders, TorchScript on request) to safetensors in OpenAI or Hugging Face layout
/// (<see cref="ClipCheckpoint.Save"/>).
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(GlobalOptions global)
    {
        var input = new Argument<string>("IN") { Description = "The checkpoint: a weights file or a model folder." };
        var output = new Option<string>("--out", "-o") { Description = "Where to write: OUT.safetensors (OpenAI layout, or HF layout in one file) or a folder (HF layout: model.safetensors + config.json + tokenizer files).", Required = true };
        var layout = new Option<string>("--layout") { Description = "openai or hf.", DefaultValueFactory = _ => "openai" };
        var dtype = new Option<string>("--dtype") { Description = "Element type of the written weights: float32, bfloat16 or float16.", DefaultValueFactory = _ => "float32" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with vocab.json and merges.txt to carry into an HF folder (default: beside IN, else CLIP's bundled vocabulary)." };
        var allowTorchScript = new Option<bool>("--allow-torchscript") { Description = "Read a TorchScript archive such as OpenAI's ViT-B-32.pt. Such archives are programs: only for files you trust." };
        var command = new Command("convert", "Convert a CLIP checkpoint to safetensors (and between OpenAI and Hugging Face layouts).")
        {
            input, output, layout, dtype, tokenizer, allowTorchScript,
        };
        RvptCli.SetWork(command, global, (parse, context, _) =>
        {
            var source = parse.GetValue(input)!;
            CliChecks.PathExists(source, "IN", "a CLIP checkpoint file or model folder");
            var target = parse.GetValue(output)!;
            var keyLayout = parse.GetValue(layout)!.Trim().ToLowerInvariant() switch
            {
                "openai" or "openclip" => ClipCheckpointLayout.OpenAI,
                "hf" or "huggingface" or "hugging-face" => ClipCheckpointLayout.HuggingFace,
                var other => throw new CliInputException($"--layout '{other}' is not a layout; expected openai or hf."),
            };
            if (keyLayout == ClipCheckpointLayout.OpenAI && !target.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new CliInputException($"--out '{target}': the OpenAI layout is one file; name it *.safetensors (or use --layout hf for a folder).");
            if (Path.GetFullPath(target) == Path.GetFullPath(source))
                throw new CliInputException($"--out '{target}' is the input itself; write to another path.");
            var request = new ModelRequest(source, parse.GetValue(tokenizer), TorchSharp.torch.CPU, ModelOptions.ParseDType(parse.GetValue(dtype)!, "--dtype"),
                parse.GetValue(allowTorchScript));
            if (request.Tokenizer is not null) CliChecks.DirectoryExists(request.Tokenizer, "--tokenizer", "a folder with vocab.json and merges.txt");

            using var clip = ProgressDisplay.Run(context, $"Reading {source}", _ => request.Load(context.Logger, needTokenizer: false));
            var parent = Path.GetDirectoryName(Path.GetFullPath(target));
            if (parent is not null) Directory.CreateDirectory(parent);
            ProgressDisplay.Run(context, $"Writing {target}", _ =>
            {
                ClipCheckpoint.Save(clip, target, keyLayout);
                return 0;
            });
            var config = clip.Config;
            if (context.Json)
            {
                context.WriteJson(new JsonObject
                {
                    ["input"] = source,
                    ["output"] = target,
                    ["layout"] = keyLayout == ClipCheckpointLayout.OpenAI ? "openai" : "hf",
                    ["dtype"] = clip.DType.ToString(),
                    ["image_size"] = config.Vision.ImageSize,
                    ["vision_layers"] = config.Vision.Layers,
                    ["vision_width"] = config.Vision.Width,
                    ["embed_dim"] = config.EmbedDim,
                }.ToJsonString(JsonOutput.Indented));
            }
            else
            {
                context.Result($"Wrote {target} ({(keyLayout == ClipCheckpointLayout.OpenAI ? "OpenAI" : "Hugging Face")} layout, {clip.DType}; " +
                    $"ViT {config.Vision.Layers} blocks x {config.Vision.Width}, {config.Vision.ImageSize} px).\n");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
