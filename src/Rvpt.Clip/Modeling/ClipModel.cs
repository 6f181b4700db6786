using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// CLIP: a ViT image tower (<see cref="Visual"/>) and a causal text transformer whose weights sit at the top level,
/// exactly as in OpenAI's <c>clip.model.CLIP</c>, so field names equal OpenAI state-dict keys.
/// </summary>
/// <remarks>
/// Create one with <see cref="FromPretrained"/> (OpenAI, OpenCLIP or Hugging Face checkpoints), with
/// <see cref="ClipModelBuilder"/>, or with <see cref="Create"/> for random weights. A model starts in eval mode.
/// Tensors returned by the <c>Encode*</c> methods belong to the caller (or the caller's dispose scope).
/// </remarks>
public sealed class ClipModel : nn.Module<Tensor, Tensor, ClipOutput>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly ClipVisionTransformer visual;
    private readonly Embedding token_embedding;
    private readonly Parameter positional_embedding;
    private readonly ClipTransformer transformer;
    private readonly ClipLayerNorm ln_final;
    private readonly Parameter text_projection;
    private readonly Parameter logit_scale;
#pragma warning restore IDE1006

    /// <summary>Creates a model with placeholder weights; load or initialise them before use.</summary>
    public ClipModel(ClipConfig config) : base(nameof(ClipModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var t = config.Text;
        visual = new ClipVisionTransformer(config.Vision, config.EmbedDim, config.Activation, config.LayerNormEps);
        token_embedding = nn.Embedding(t.VocabSize, t.Width);
        positional_embedding = new Parameter(zeros(t.ContextLength, t.Width));
        transformer = new ClipTransformer(t.Width, t.Layers, t.Heads, t.ResolvedMlpWidth, config.Activation, config.LayerNormEps, causal: true);
        ln_final = new ClipLayerNorm(t.Width, config.LayerNormEps);
        text_projection = new Parameter(zeros(t.Width, config.EmbedDim));
        logit_scale = new Parameter(tensor(MathF.Log(1f / 0.07f)));
        RegisterComponents();
        eval();
    }

    /// <summary>The architecture.</summary>
    public ClipConfig Config { get; }

    /// <summary>The image tower.</summary>
    public ClipVisionTransformer Visual => visual;

    /// <summary>The text tower's residual blocks.</summary>
    public IReadOnlyList<ResidualAttentionBlock> TextBlocks => transformer.Blocks;

    /// <summary>The learned log temperature (a 0-d tensor); logits use <c>exp(LogitScale)</c>.</summary>
    public Parameter LogitScale => logit_scale;

    /// <summary>
    /// The tokenizer: the one given to <see cref="ClipModelBuilder"/>, the files beside the checkpoint
    /// (vocab.json + merges.txt), or the bundled CLIP vocabulary for a 49,408-token text tower; null otherwise.
    /// </summary>
    public ClipTokenizer? Tokenizer { get; internal set; }

    /// <summary>
    /// Settings of <see cref="ImageProcessor"/>: the model's image size, and the normalisation the checkpoint was
    /// trained with (OpenCLIP's <c>preprocess_cfg</c> mean and std when it has one, else CLIP's).
    /// </summary>
    public ClipImageProcessorOptions ImageProcessorOptions
    {
        get => _imageProcessorOptions ??= new ClipImageProcessorOptions { ImageSize = Config.Vision.ImageSize };
        internal set
        {
            _imageProcessorOptions = value;
            _imageProcessor = null;
        }
    }
    private ClipImageProcessorOptions? _imageProcessorOptions;

    /// <summary>An image processor for this model (CLIP's resize, crop and normalisation; see <see cref="ImageProcessorOptions"/>).</summary>
    public ClipImageProcessor ImageProcessor => _imageProcessor ??= new ClipImageProcessor(ImageProcessorOptions);
    private ClipImageProcessor? _imageProcessor;

    /// <summary>The folder holding the tokenizer files (vocab.json, merges.txt) of <see cref="Tokenizer"/>, if known.</summary>
    public string? TokenizerDirectory { get; internal set; }

    /// <summary>Where the checkpoint came from (a path), or null for a model built in memory.</summary>
    public string? Source { get; internal set; }

    /// <summary>Device of the weights.</summary>
    public Device Device => logit_scale.device;

    /// <summary>Element type of the weights.</summary>
    public ScalarType DType => logit_scale.dtype;

    /// <summary>
    /// Loads a checkpoint; see <see cref="ClipModelBuilder"/> for every option. TorchScript archives (OpenAI's original
    /// downloads) are refused here, since they carry code: read them with <see cref="ClipModelBuilder.AllowTorchScript"/>.
    /// </summary>
    /// <param name="path">A <c>.safetensors</c>, <c>.pt</c> or <c>.bin</c> file, a Hugging Face model folder, or an
    /// OpenCLIP folder (<c>open_clip_config.json</c> + <c>open_clip_model.safetensors</c> or <c>open_clip_pytorch_model.bin</c>).</param>
    /// <param name="device">Target device (default CPU).</param>
    /// <param name="dtype">Target element type (default float32); half-precision checkpoints are converted.</param>
    /// <param name="logger">Receives load progress and warnings, e.g. when the architecture had to be inferred from the
    /// weights' shapes (head counts and activation are guesses then). Default: none.</param>
    public static ClipModel FromPretrained(string path, Device? device = null, ScalarType dtype = ScalarType.Float32, ILogger? logger = null) =>
        new ClipModelBuilder().FromCheckpoint(path).OnDevice(device ?? CPU).WithDType(dtype).WithLogger(logger ?? NullLogger.Instance).Build();

    /// <summary>Creates a model with OpenAI's random initialisation, reproducible from <paramref name="seed"/>.</summary>
    public static ClipModel Create(ClipConfig config, long seed = 0, Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        new ClipModelBuilder().WithConfig(config).WithRandomWeights(seed).OnDevice(device ?? CPU).WithDType(dtype).Build();

    /// <summary>Raw image embeddings <c>[N, embedDim]</c> for pixel values <c>[N, 3, S, S]</c>.</summary>
    public Tensor EncodeImage(Tensor pixelValues) => visual.forward(pixelValues);

    /// <summary>L2-normalised image embeddings <c>[N, embedDim]</c>.</summary>
    public Tensor EncodeImageNormalized(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        return Normalize(visual.forward(pixelValues)).MoveToOuterDisposeScope();
    }

    /// <summary>Image embeddings plus per-block hidden states; see <see cref="ClipVisionTransformer.Encode"/>.</summary>
    public ClipVisionOutput EncodeImageWithHiddenStates(Tensor pixelValues, VisionHiddenStates keep = VisionHiddenStates.ClassTokens) =>
        visual.Encode(pixelValues, keep);

    /// <summary><c>ln_final</c> output for every position, <c>[N, T, width]</c>, for token ids <c>[N, T]</c>.</summary>
    /// <exception cref="ArgumentException">The ids are not a 2-D integer tensor no longer than the context length.</exception>
    public Tensor EncodeTextHidden(Tensor inputIds)
    {
        CheckIds(inputIds);
        using var scope = NewDisposeScope();
        long t = inputIds.shape[1];
        var x = token_embedding.forward(inputIds.to(token_embedding.weight!.device));
        x = x + positional_embedding.narrow(0, 0, t).to_type(x.dtype);
        x = transformer.forward(x);
        return ln_final.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Raw text embeddings <c>[N, embedDim]</c> for token ids <c>[N, T]</c>: the final hidden state at the end-of-text
    /// position (the largest id of each row, as in OpenAI's code: EOT is the last vocabulary entry), projected.
    /// </summary>
    public Tensor EncodeText(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var hidden = EncodeTextHidden(inputIds);
        var eot = inputIds.to(hidden.device).argmax(-1);
        var pooled = hidden[arange(hidden.shape[0], device: hidden.device), eot];
        return pooled.matmul(text_projection.to_type(pooled.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>L2-normalised text embeddings <c>[N, embedDim]</c>.</summary>
    public Tensor EncodeTextNormalized(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        return Normalize(EncodeText(inputIds)).MoveToOuterDisposeScope();
    }

    /// <summary>Encodes <paramref name="texts"/> with <see cref="Tokenizer"/>: normalised embeddings <c>[N, embedDim]</c>.</summary>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public Tensor EncodeTextNormalized(IReadOnlyList<string> texts)
    {
        var tokenizer = Tokenizer ?? throw new InvalidOperationException(
            "This model has no tokenizer: load it from a folder with vocab.json and merges.txt, or set one with ClipModelBuilder.WithTokenizer (ClipTokenizer.FromBundledVocabulary() is OpenAI CLIP's).");
        using var scope = NewDisposeScope();
        var ids = tokenizer.EncodeBatch(texts, Config.Text.ContextLength, device: Device);
        return EncodeTextNormalized(ids).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>exp(logit_scale) * cos(image, text)</c> for every pair; the result owns the logits and the raw embeddings.
    /// </summary>
    public override ClipOutput forward(Tensor pixelValues, Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var image = EncodeImage(pixelValues);
        var text = EncodeText(inputIds);
        var logits = Logits(Normalize(image), Normalize(text));
        return new ClipOutput(logits.MoveToOuterDisposeScope(), logits.t().MoveToOuterDisposeScope(),
            image.MoveToOuterDisposeScope(), text.MoveToOuterDisposeScope());
    }


    /// <summary><c>exp(logit_scale) * a @ b.T</c> for already-normalised embeddings.</summary>
    public Tensor Logits(Tensor normalizedImages, Tensor normalizedTexts)
    {
        using var scope = NewDisposeScope();
        var s = logit_scale.exp().to_type(normalizedImages.dtype);
        return (s * normalizedImages).matmul(normalizedTexts.t()).MoveToOuterDisposeScope();
    }

    /// <summary>Row-wise L2 normalisation (<c>x / |x|</c>) as CLIP applies it before the cosine.</summary>
    public static Tensor Normalize(Tensor embeddings) => embeddings / embeddings.norm(-1, keepdim: true);

    /// <summary>Sets <c>requires_grad</c> on every weight (use <c>false</c> to freeze the whole model).</summary>
    public ClipModel SetTrainable(bool trainable)
    {
        foreach (var p in parameters()) p.requires_grad = trainable;
        return this;
    }

    /// <summary>
    /// A deep copy: same config, weights (bit-identical), device, dtype and tokenizer, in eval mode with all weights
    /// frozen. For defences that fine-tune a model while the original must stay intact. The caller disposes it.
    /// </summary>
    public ClipModel Clone()
    {
        var copy = new ClipModel(Config);
        try
        {
            copy.to(Device, DType);
            using (no_grad())
            {
                var source = state_dict();
                foreach (var (key, value) in copy.state_dict()) value.copy_(source[key]);
            }
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        copy.Tokenizer = Tokenizer;
        copy.TokenizerDirectory = TokenizerDirectory;
        copy._imageProcessorOptions = _imageProcessorOptions;
        copy.Source = Source;
        copy.SetTrainable(false);
        copy.eval();
        return copy;
    }

    private void CheckIds(Tensor ids)
    {
        if (ids.dim() != 2 || ids.shape[1] < 1 || ids.shape[1] > Config.Text.ContextLength)
            throw new ArgumentException(
                $"Expected token ids of shape [N, T] with 1 <= T <= {Config.Text.ContextLength}, got [{string.Join(", ", ids.shape)}].", nameof(ids));
        if (ids.dtype != ScalarType.Int64 && ids.dtype != ScalarType.Int32)
            throw new ArgumentException($"Expected int64 token ids, got {ids.dtype}.", nameof(ids));
    }
}
