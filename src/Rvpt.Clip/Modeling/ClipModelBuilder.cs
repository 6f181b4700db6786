using Microsoft.Extensions.Logging;
using TorchSharp;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Builds a <see cref="ClipModel"/> from a checkpoint or with random weights.
/// <code>
/// using var clip = new ClipModelBuilder().FromCheckpoint("models/clip-vit-b-32").OnDevice(CUDA).WithDType(ScalarType.BFloat16).Build();
/// </code>
/// Config precedence: <see cref="WithConfig"/> &gt; the checkpoint's own config (safetensors metadata or config.json)
/// &gt; inference from tensor shapes (head count = width / 64, QuickGELU).
/// </summary>
public sealed class ClipModelBuilder
{
    private string? _checkpoint;
    private ClipConfig? _config;
    private long? _seed;
    private Device _device = CPU;
    private ScalarType _dtype = ScalarType.Float32;
    private ClipTokenizer? _tokenizer;
    private string? _tokenizerDirectory;
    private ILogger _logger = NullLogger.Instance;

    /// <summary>Loads weights from a file or Hugging Face folder (see <see cref="ClipCheckpoint.Read"/>).</summary>
    public ClipModelBuilder FromCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _checkpoint = path;
        return this;
    }

    /// <summary>Uses this architecture instead of the checkpoint's own or inferred one.</summary>
    public ClipModelBuilder WithConfig(ClipConfig config)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        return this;
    }

    /// <summary>Initialises random weights (OpenAI's scheme) from <paramref name="seed"/> instead of loading a checkpoint.</summary>
    public ClipModelBuilder WithRandomWeights(long seed = 0)
    {
        _seed = seed;
        return this;
    }

    /// <summary>Target device. Default CPU.</summary>
    public ClipModelBuilder OnDevice(Device device)
    {
        _device = device ?? throw new ArgumentNullException(nameof(device));
        return this;
    }

    /// <summary>Target element type (float32, float16, bfloat16). Default float32.</summary>
    public ClipModelBuilder WithDType(ScalarType dtype)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
            throw new ArgumentException($"CLIP weights must be a floating-point type, got {dtype}.", nameof(dtype));
        _dtype = dtype;
        return this;
    }

    /// <summary>Attaches a tokenizer (otherwise vocab.json + merges.txt beside the checkpoint are used when present).</summary>
    public ClipModelBuilder WithTokenizer(ClipTokenizer tokenizer)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        return this;
    }

    /// <summary>Attaches the tokenizer in <paramref name="directory"/> (vocab.json + merges.txt).</summary>
    public ClipModelBuilder WithTokenizerDirectory(string directory)
    {
        _tokenizer = ClipTokenizer.FromDirectory(directory);
        _tokenizerDirectory = directory;
        return this;
    }

    /// <summary>Logger for load progress. Default: none.</summary>
    public ClipModelBuilder WithLogger(ILogger logger)
    {
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        return this;
    }

    /// <summary>Builds the model. The caller disposes it.</summary>
    /// <exception cref="InvalidOperationException">Neither a checkpoint nor random weights were requested, or both.</exception>
    public ClipModel Build()
    {
        if (_checkpoint is null == _seed is null)
            throw new InvalidOperationException("Call exactly one of FromCheckpoint(path) or WithRandomWeights(seed) before Build().");
        if (_seed is { } seed)
        {
            var config = _config ?? throw new InvalidOperationException("WithRandomWeights needs WithConfig(config) (for example ClipConfig.ViTB32).");
            var model = new ClipModel(config);
            ClipWeightInitializer.Initialize(model, seed);
            _logger.LogInformation("Created a random CLIP ({Parameters:N0} parameters, seed {Seed}).", config.ParameterCount, seed);
            return Finish(model, null);
        }

        using var contents = ClipCheckpoint.Read(_checkpoint!);
        ClipConfig resolved;
        if (_config is not null) resolved = _config;
        else if (contents.Config is not null) resolved = contents.Config;
        else
        {
            resolved = ClipConfigInference.FromOpenAIStateDict(contents.StateDict, contents.Source);
            _logger.LogWarning("{Source} carries no config; architecture inferred from tensor shapes (heads = width / 64, QuickGELU).", contents.Source);
        }
        var loaded = new ClipModel(resolved);
        try
        {
            ClipCheckpoint.LoadInto(loaded, contents);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
        loaded.Source = contents.Source;
        _logger.LogInformation("Loaded CLIP from {Source} ({Layout} layout, {Count} tensors).", contents.Source, contents.Layout, contents.StateDict.Count);
        return Finish(loaded, contents.TokenizerDirectory);
    }

    private ClipModel Finish(ClipModel model, string? tokenizerDirectory)
    {
        if (_tokenizer is not null)
        {
            model.Tokenizer = _tokenizer;
            model.TokenizerDirectory = _tokenizerDirectory;
        }
        else if (tokenizerDirectory is not null)
        {
            model.Tokenizer = ClipTokenizer.FromDirectory(tokenizerDirectory);
            model.TokenizerDirectory = tokenizerDirectory;
        }
        if (_dtype != ScalarType.Float32 || _device.type != DeviceType.CPU) model.to(_device, _dtype);
        model.eval();
        return model;
    }
}
