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
/// Config precedence: <see cref="WithConfig"/> &gt; the checkpoint's own config (safetensors metadata, OpenCLIP's
/// <c>open_clip_config.json</c>, or a Hugging Face <c>config.json</c>) &gt; inference from tensor shapes (head count =
/// width / 64 as in OpenAI's <c>build_model</c>; QuickGELU unless <see cref="WithInferredActivation"/> says otherwise, with
/// a warning to the logger). Whichever config is used is checked against the weights' shapes before the model is
/// allocated. Tokenizer precedence: <see cref="WithTokenizer"/>/<see cref="WithTokenizerDirectory"/> &gt;
/// <c>vocab.json</c> + <c>merges.txt</c> beside the checkpoint &gt; the bundled CLIP vocabulary
/// (<see cref="ClipTokenizer.FromBundledVocabulary"/>) when the text tower has its 49,408 tokens.
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
    private bool _allowTorchScript;
    private ClipActivation? _inferredActivation;

    /// <summary>Loads weights from a file or Hugging Face folder (see <see cref="ClipCheckpoint.Read"/>).</summary>
    public ClipModelBuilder FromCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _checkpoint = path;
        return this;
    }

    /// <summary>
    /// Reads TorchScript archives, such as OpenAI's original CLIP downloads (<c>ViT-B-32.pt</c>), with libtorch's
    /// TorchScript loader (as OpenAI's <c>clip.load</c> does); their weights are taken and the archive's own code is
    /// not used afterwards. Only for files you trust: loading an archive compiles its code and may run it. Without
    /// this, such files are refused. Save the model with <see cref="ClipCheckpoint.Save"/> to need this only once.
    /// </summary>
    public ClipModelBuilder AllowTorchScript(bool allow = true)
    {
        _allowTorchScript = allow;
        return this;
    }

    /// <summary>
    /// The MLP activation to use when the checkpoint carries no config and the architecture is inferred from tensor
    /// shapes (an OpenCLIP state dict without its <c>open_clip_config.json</c>, say): <see cref="ClipActivation.Gelu"/>
    /// for most OpenCLIP/LAION models, <see cref="ClipActivation.QuickGelu"/> for OpenAI's and OpenCLIP's
    /// <c>-quickgelu</c> models. Without it inference assumes QuickGELU and logs a warning. Ignored when a config is known.
    /// </summary>
    public ClipModelBuilder WithInferredActivation(ClipActivation activation)
    {
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        _inferredActivation = activation;
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

    /// <summary>
    /// Attaches a tokenizer (otherwise vocab.json + merges.txt beside the checkpoint are used when present, else the
    /// bundled CLIP vocabulary for a 49,408-token text tower).
    /// </summary>
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

    /// <summary>Logger for load progress and for warnings about guessed architecture settings. Default: none.</summary>
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

        using var contents = ClipCheckpoint.Read(_checkpoint!, _allowTorchScript);
        foreach (var warning in contents.Warnings) _logger.LogWarning("{Warning}", warning);
        var resolved = ResolveConfig(contents);
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
        if (contents.ImageMean is not null || contents.ImageStd is not null)
        {
            loaded.ImageProcessorOptions = loaded.ImageProcessorOptions with
            {
                Mean = contents.ImageMean ?? ClipImageProcessorOptions.ClipMean,
                Std = contents.ImageStd ?? ClipImageProcessorOptions.ClipStd,
            };
        }
        _logger.LogInformation("Loaded CLIP from {Source} ({Layout} layout, {Count} tensors, config from {ConfigSource}).",
            contents.Source, contents.Layout, contents.StateDict.Count, _config is not null ? "WithConfig" : contents.ConfigSource ?? "tensor shapes");
        if (contents.TokenizerDirectory is null && _tokenizer is null && !contents.UsesClipTokenizer)
            _logger.LogWarning("{Source}: the config names a tokenizer other than CLIP's BPE; no tokenizer is attached (use WithTokenizer).", contents.Source);
        return Finish(loaded, contents.TokenizerDirectory, contents.UsesClipTokenizer);
    }

    /// <summary>
    /// The config to build: <see cref="WithConfig"/>'s (checked against the weights here), the checkpoint's (checked
    /// when it was read), or one inferred from the shapes. Nothing has been allocated yet when this throws.
    /// </summary>
    private ClipConfig ResolveConfig(ClipCheckpointContents contents)
    {
        if (_config is not null)
        {
            ClipConfigWeightsCheck.Check(_config, contents.WeightInfo, contents.Source, ClipConfigFormat.Code, "WithConfig");
            return _config;
        }
        if (contents.Config is not null) return contents.Config;

        var inferred = ClipConfigInference.FromOpenAIStateDict(contents.StateDict, contents.Source);
        if (_inferredActivation is { } activation) inferred = inferred with { Activation = activation };
        ClipConfigWeightsCheck.Check(inferred, contents.WeightInfo, contents.Source, ClipConfigFormat.Code, "inferred from the tensor shapes");
        _logger.LogWarning(
            "{Source} carries no config (no __metadata__ config, open_clip_config.json or config.json): the architecture was inferred from tensor shapes. " +
            "Head counts cannot be seen in the weights: OpenAI's rule width / 64 gives {VisionHeads} vision and {TextHeads} text heads. " +
            "Activation: {Activation}{ActivationNote}. Pass the model's config with WithConfig to be sure.",
            contents.Source, inferred.Vision.Heads, inferred.Text.Heads, inferred.Activation,
            _inferredActivation is null
                ? " assumed (OpenAI's models use it; most OpenCLIP/LAION models use exact GELU: put open_clip_config.json beside the weights or call WithInferredActivation)"
                : " as chosen with WithInferredActivation");
        return inferred;
    }

    private ClipModel Finish(ClipModel model, string? tokenizerDirectory, bool usesClipTokenizer = true)
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
        else if (usesClipTokenizer && model.Config.Text.VocabSize == ClipTokenizer.BundledVocabularySize)
        {
            model.Tokenizer = ClipTokenizer.FromBundledVocabulary();
        }
        if (_dtype != ScalarType.Float32 || _device.type != DeviceType.CPU) model.to(_device, _dtype);
        model.eval();
        return model;
    }
}
