using System.CommandLine;
using Microsoft.Extensions.Logging;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Cli;

/// <summary>The options that load a CLIP model: <c>--model</c>, <c>--tokenizer</c>, <c>--device</c>, <c>--dtype</c>, <c>--allow-torchscript</c>.</summary>
internal sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model", "-m")
    {
        Description = "CLIP checkpoint: OpenAI/OpenCLIP .safetensors or zip .pt/.bin, an OpenCLIP folder, or a Hugging Face folder or file.",
        Required = true,
    };

    public Option<string?> Tokenizer { get; } = new("--tokenizer") { Description = "Folder with vocab.json and merges.txt when they are not beside --model (default: beside it, else CLIP's bundled vocabulary)." };

    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };

    public Option<string> DType { get; } = new("--dtype") { Description = "Element type the model is held in: float32, bfloat16 or float16.", DefaultValueFactory = _ => "float32" };

    public Option<bool> AllowTorchScript { get; } = new("--allow-torchscript") { Description = "Read a TorchScript archive (OpenAI's original .pt). Such archives are programs; convert once and keep safetensors." };

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Tokenizer);
        command.Add(Device);
        command.Add(DType);
        command.Add(AllowTorchScript);
    }

    /// <summary>Reads and checks the options (paths exist, device and dtype known) without loading anything.</summary>
    public ModelRequest Read(ParseResult parse)
    {
        var model = parse.GetValue(Model)!;
        CliChecks.PathExists(model, "--model", "a CLIP checkpoint file or model folder");
        var tokenizer = parse.GetValue(Tokenizer);
        if (tokenizer is not null) CliChecks.DirectoryExists(tokenizer, "--tokenizer", "a folder with vocab.json and merges.txt");
        return new ModelRequest(model, tokenizer, ParseDevice(parse.GetValue(Device)!), ParseDType(parse.GetValue(DType)!, "--dtype"),
            parse.GetValue(AllowTorchScript));
    }

    public static Device ParseDevice(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return CPU;
        if (t == "cuda" || (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t[5..], out var n) && n >= 0))
        {
            if (!cuda.is_available())
                throw new CliInputException($"--device {text}: no CUDA device is available (this build uses the CPU backend; see docs/building.md for TorchBackend=cuda-linux).");
            return new Device(t);
        }
        throw new CliInputException($"--device '{text}' is not a device; expected cpu, cuda or cuda:N.");
    }

    public static ScalarType ParseDType(string text, string option) => text.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "f16" or "half" => ScalarType.Float16,
        _ => throw new CliInputException($"{option} '{text}' is not a dtype; expected float32, bfloat16 or float16."),
    };
}

/// <summary>A checked model request.</summary>
internal sealed record ModelRequest(string Path, string? Tokenizer, Device Device, ScalarType DType, bool AllowTorchScript)
{
    /// <summary>Loads the model; a checkpoint that cannot be read or does not fit its config is bad input (exit code 2).</summary>
    public ClipModel Load(ILogger logger, bool needTokenizer = true)
    {
        ClipModel model;
        try
        {
            var builder = new ClipModelBuilder().FromCheckpoint(Path).OnDevice(Device).WithDType(DType).WithLogger(logger).AllowTorchScript(AllowTorchScript);
            if (Tokenizer is not null) builder.WithTokenizerDirectory(Tokenizer);
            model = builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or NotSupportedException or ArgumentException)
        {
            throw new CliInputException($"--model '{Path}': {e.Message}", e);
        }
        if (needTokenizer && model.Tokenizer is null)
        {
            model.Dispose();
            throw new CliInputException($"--model '{Path}' has no tokenizer: no vocab.json and merges.txt beside it, and its text tower is not CLIP's 49,408-token one; pass --tokenizer <folder with both files>.");
        }
        return model;
    }
}
