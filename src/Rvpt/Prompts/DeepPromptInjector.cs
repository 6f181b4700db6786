using Rvpt.Clip;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Deep visual prompts (VPT-deep) in a CLIP image tower, as RVPT uses them: blocks 1..D run unprompted (the shared
/// trunk); every prompted block gets its own <c>b</c> learnable tokens, inserted after the class token and before the
/// patch tokens, and their outputs are discarded before the next block, which gets fresh prompts. The CLIP model is
/// neither modified nor copied: the injector holds only the prompts and runs the model's blocks itself, and it
/// freezes every CLIP weight.
/// </summary>
/// <remarks>
/// Tensors returned by the <c>Run*</c> methods belong to the caller's dispose scope. When a prompted block is followed
/// by an unprompted one (a custom block list with gaps), the prompt outputs of the previous block are carried into it.
/// An injector starts in eval mode, so prompt dropout is off until <c>train()</c> (which <see cref="FewShotTrainer"/>
/// calls for the length of <see cref="FewShotTrainer.Fit"/>, and undoes).
/// </remarks>
public sealed class DeepPromptInjector : nn.Module
{
#pragma warning disable IDE1006 // checkpoint key name
    private readonly Parameter prompts;
#pragma warning restore IDE1006
    private readonly ClipModel _clip;
    private readonly int[] _prompted; // 1-based block numbers
    private readonly Dictionary<int, int> _promptIndex;
    private readonly Generator _dropoutGenerator;
    private ClipVisionTransformer? _computeVisual; // a frozen copy of the image tower in ComputeDType, or null

    internal DeepPromptInjector(ClipModel clip, DeepPromptOptions options) : base(nameof(DeepPromptInjector))
    {
        _clip = clip ?? throw new ArgumentNullException(nameof(clip));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        var vision = clip.Config.Vision;
        _prompted = options.ResolveBlocks(vision.Layers).ToArray();
        _promptIndex = _prompted.Select((b, i) => (b, i)).ToDictionary(p => p.b, p => p.i);
        UnpromptedDepth = _prompted.Length == 0 ? vision.Layers : _prompted[0] - 1;

        var values = empty(new long[] { _prompted.Length, options.Tokens, vision.Width }, options.DType);
        var g = new Generator((ulong)options.Seed, CPU);
        using (no_grad())
        {
            if (options.Init is PromptInit.GaussianInit gauss) values.normal_(0, gauss.Std, g);
            else
            {
                double v = Math.Sqrt(6.0 / (3.0 * vision.PatchSize * vision.PatchSize + vision.Width));
                values.uniform_(-v, v, g);
            }
        }
        prompts = new Parameter(values.to(clip.Device));
        _dropoutGenerator = new Generator((ulong)options.Seed, CPU);
        // Register the prompts only: RegisterComponents would also adopt the CLIP model (a field) as a submodule,
        // making its weights part of this module's parameters and state dict.
        register_parameter("prompts", prompts);
        clip.SetTrainable(false);
        clip.eval();
        eval(); // a module starts in training mode; prompts are for inference unless a trainer says otherwise
    }

    /// <summary>Starts a fluent builder for prompts on <paramref name="clip"/>'s image tower.</summary>
    public static DeepPromptInjectorBuilder For(ClipModel clip) => new(clip);

    /// <summary>The options the prompts were built with.</summary>
    public DeepPromptOptions Options { get; }

    /// <summary>The CLIP model the prompts apply to (not owned).</summary>
    public ClipModel Clip => _clip;

    /// <summary>D: the number of leading unprompted blocks (the shared trunk).</summary>
    public int UnpromptedDepth { get; }

    /// <summary>The prompted blocks (1-based).</summary>
    public IReadOnlyList<int> PromptedBlocks => _prompted;

    /// <summary>The learnable prompts, <c>[prompted blocks, b, width]</c>.</summary>
    public Parameter Prompts => prompts;

    /// <summary>
    /// The class names the prompts were trained to tell apart, in label order: set by <see cref="FewShotTrainer.Fit"/>
    /// or <see cref="SetClasses"/>, saved in and restored from prompt checkpoints; null when unknown.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; private set; }

    /// <summary>The prompt templates used with <see cref="ClassNames"/> in training (<c>{}</c> = class name); null when unknown.</summary>
    public IReadOnlyList<string>? Templates { get; private set; }

    /// <summary>
    /// Records the class names and templates the prompts are (or were) trained with, so that a saved prompt file
    /// carries what is needed to classify with it (<see cref="PromptedClassifier"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No class names or templates, a name twice, or a template without <c>{}</c>.</exception>
    public void SetClasses(IReadOnlyList<string> classNames, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(templates);
        if (classNames.Count == 0) throw new ArgumentException("At least one class name is required.", nameof(classNames));
        if (classNames.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Class names must not be empty.", nameof(classNames));
        var duplicate = classNames.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Class name '{duplicate.Key}' appears {duplicate.Count()} times.", nameof(classNames));
        if (templates.Count == 0) throw new ArgumentException("At least one template is required.", nameof(templates));
        foreach (var t in templates)
        {
            if (t is null || !t.Contains("{}", StringComparison.Ordinal))
                throw new ArgumentException($"Template '{t}' has no '{{}}' placeholder for the class name.", nameof(templates));
        }
        ClassNames = classNames.ToArray();
        Templates = templates.ToArray();
    }

    /// <summary>Whether the prompts are applied. With false, every method gives the original encoder's results.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether <see cref="RunFrozen"/> and <see cref="RunPrompted"/> (and so <see cref="EncodeImage"/>) compute their
    /// last block for the class token only. Both read the last block's output at the class token alone (the image
    /// features, its class token and the repelling term), so the block's keys and values run over every token but its
    /// query, attention output, <c>ln_2</c> and MLP over the class token only
    /// (<see cref="ResidualAttentionBlock.ForwardFirstToken"/>): at ViT-B/32 with D = 3 and b = 50 that is about a
    /// tenth of the branches' products. The outputs keep their meaning and agree with the full block's up to
    /// floating-point rounding, not bit for bit (the products run over other shapes), so it is off by default and
    /// results with it are reproducible only with it. Default false.
    /// </summary>
    public bool ClassTokenOnlyLastBlock { get; set; }

    /// <summary>
    /// Whether <see cref="RunPrompted"/> (and so <see cref="EncodeImage"/>) skips the prompts' own outputs. VPT-deep
    /// throws every prompted block's output at the prompt positions away (the next block gets fresh prompts, the last
    /// block is read at the class token), so each prompted block can run its keys and values over every token but its
    /// queries, attention output, <c>ln_2</c> and MLP over the class and patch tokens only
    /// (<see cref="ResidualAttentionBlock.ForwardSkipping"/>): at ViT-B/32 with b = 50 prompts beside 50 tokens, about
    /// 40% of each prompted block's products, forward and backward. The outputs keep their meaning and agree with the
    /// full blocks' up to floating-point rounding (docs/performance.md says where they were bit-identical). Default false.
    /// </summary>
    public bool SkipReplacedPromptOutputs { get; set; }

    /// <summary>
    /// Element type the CLIP image tower computes in for every <c>Run*</c> method: the model's own
    /// (<see cref="ClipModel.DType"/>) unless <see cref="SetComputeDType"/> chose another.
    /// </summary>
    public ScalarType ComputeDType => _computeVisual is null ? _clip.DType : _computeVisual.PositionalEmbedding.dtype;

    /// <summary>
    /// Mixed precision: runs the frozen CLIP image tower in <paramref name="dtype"/> (e.g. bfloat16) while the prompts
    /// keep their own master dtype (float32 by default; they are cast for each block and their gradient arrives in the
    /// master dtype) and <see cref="RepulsiveLoss"/> computes in float32. A frozen copy of the image tower is made in
    /// <paramref name="dtype"/> on the model's device (ViT-B/32 in bfloat16: about 176 MB), owned by the injector and
    /// freed when another dtype is set, on <see langword="null"/> (back to the model's own dtype) or on dispose. The
    /// model itself is not changed; the copy holds its weights as they were when this was called (set it again after
    /// changing them). <see cref="FewShotTrainer"/> sets this from <see cref="TrainingOptions.ComputeDType"/> for the
    /// duration of <see cref="FewShotTrainer.Fit"/>.
    /// </summary>
    /// <param name="dtype">A floating-point type, or <see langword="null"/> for the model's own.</param>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is not a floating-point type.</exception>
    public void SetComputeDType(ScalarType? dtype)
    {
        var target = dtype ?? _clip.DType;
        if (!is_floating_point(target))
            throw new ArgumentException($"The compute dtype must be a floating-point type, got {target}.", nameof(dtype));
        if (target == ComputeDType) return;
        _computeVisual?.Dispose();
        _computeVisual = null;
        if (target != _clip.DType) _computeVisual = CopyVisual(target);
    }

    private ClipVisionTransformer CopyVisual(ScalarType dtype)
    {
        var config = _clip.Config;
        var copy = new ClipVisionTransformer(config.Vision, config.EmbedDim, config.Activation, config.LayerNormEps);
        try
        {
            copy.to(_clip.Device, dtype);
            using var noGrad = no_grad();
            var source = _clip.Visual.state_dict();
            foreach (var (key, value) in copy.state_dict()) value.copy_(source[key]);
            foreach (var p in copy.parameters()) p.requires_grad = false;
            copy.eval();
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>The tower the blocks run on: the compute copy, or the model's own.</summary>
    private ClipVisionTransformer Visual => _computeVisual ?? _clip.Visual;

    /// <summary>Number of trainable values (ViT-B/32 defaults: 9 x 50 x 768 = 345,600).</summary>
    public long TrainableParameterCount => prompts.numel();

    /// <summary>Trainable values as a fraction of the CLIP model's parameters.</summary>
    public double TrainableFraction => (double)TrainableParameterCount / _clip.Config.ParameterCount;

    /// <summary>Blocks 1..D on <c>[N, 3, S, S]</c> pixels, without gradient: <c>[N, tokens, width]</c>.</summary>
    public Tensor RunSharedTrunk(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var visual = Visual;
        var x = visual.Embed(pixelValues);
        for (int d = 1; d <= UnpromptedDepth; d++) x = visual.Blocks[d - 1].forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The frozen (original) continuation from the trunk, without gradient: class tokens after blocks D+1..L,
    /// <c>[N, L - D, width]</c> — the σ of the repelling loss.
    /// </summary>
    public Tensor RunFrozen(Tensor trunk)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var visual = Visual;
        var x = trunk;
        var tokens = new List<Tensor>();
        for (int d = UnpromptedDepth + 1; d <= _clip.Config.Vision.Layers; d++)
        {
            x = RunBlock(visual, d, x);
            tokens.Add(x.select(1, 0));
        }
        return StackTokens(tokens, trunk).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The prompted continuation from the trunk, with gradient into the prompts: image features and class tokens after
    /// blocks D+1..L. With <see cref="Enabled"/> false it is the original encoder (and carries no gradient).
    /// </summary>
    public PromptedOutput RunPrompted(Tensor trunk)
    {
        using var scope = NewDisposeScope();
        var visual = Visual;
        var layers = _clip.Config.Vision.Layers;
        bool active = Enabled && _prompted.Length > 0 && Options.Tokens > 0;
        var x = trunk;
        var tokens = new List<Tensor>();
        int b = active ? Options.Tokens : 0;
        int promptRows = 0; // prompt positions x holds (after the class token), 0 once a block skipped their outputs
        for (int d = UnpromptedDepth + 1; d <= layers; d++)
        {
            if (active && _promptIndex.TryGetValue(d, out var pi))
            {
                var p = prompts[pi].to_type(x.dtype).unsqueeze(0).expand(x.shape[0], -1, -1);
                if (Options.Dropout > 0 && training) p = Dropout(p);
                var cls = x.narrow(1, 0, 1);
                var patches = x.narrow(1, 1 + promptRows, x.shape[1] - 1 - promptRows);
                x = cat(new[] { cls, p, patches }, 1);
                promptRows = b;
            }
            // The prompts' outputs are read by nothing when the next block replaces them (or none follows).
            bool replaced = promptRows > 0 && (d == layers || _promptIndex.ContainsKey(d + 1));
            if (SkipReplacedPromptOutputs && replaced && !(ClassTokenOnlyLastBlock && d == layers))
            {
                x = visual.Blocks[d - 1].ForwardSkipping(x, 1, promptRows);
                promptRows = 0;
            }
            else
            {
                x = RunBlock(visual, d, x);
            }
            tokens.Add(x.select(1, 0));
        }
        var features = visual.Pool(x);
        return new PromptedOutput(features.MoveToOuterDisposeScope(), StackTokens(tokens, trunk).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Block <paramref name="d"/> (1-based) on <paramref name="x"/>; the last block for the class token alone (a
    /// <c>[N, 1, width]</c> result) when <see cref="ClassTokenOnlyLastBlock"/> is set. Callers read only position 0
    /// of the last block's output.
    /// </summary>
    private Tensor RunBlock(ClipVisionTransformer visual, int d, Tensor x) =>
        ClassTokenOnlyLastBlock && d == visual.Blocks.Count
            ? visual.Blocks[d - 1].ForwardFirstToken(x)
            : visual.Blocks[d - 1].forward(x);

    /// <summary>
    /// Reseeds the generator of the prompt-dropout masks (its own, not libtorch's global one, so that other code
    /// drawing random numbers in the process cannot change them). <see cref="FewShotTrainer"/> reseeds it before every
    /// step from (seed, epoch, step), which makes a run resumable at any step.
    /// </summary>
    internal void SeedDropout(long seed) => _dropoutGenerator.manual_seed(seed);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dropoutGenerator.Dispose();
            _computeVisual?.Dispose();
            _computeVisual = null;
        }
        base.Dispose(disposing);
    }

    /// <summary>
    /// Inverted dropout of the prompts expanded to the batch, <c>[N, b, width]</c>, with one mask element per sample,
    /// token and channel, as VPT applies <c>nn.Dropout</c> after <c>expand(B, -1, -1)</c> (KMnP/vpt
    /// <c>src/models/vit_prompt/vit.py</c>). Masks are drawn on the CPU from <see cref="_dropoutGenerator"/>.
    /// </summary>
    private Tensor Dropout(Tensor p)
    {
        using var keep = rand(p.shape, ScalarType.Float32, CPU, generator: _dropoutGenerator).ge_(Options.Dropout);
        return p * keep.to(p.dtype, p.device) * (1.0 / (1.0 - Options.Dropout));
    }

    /// <summary>Prompted image features <c>[N, embedDim]</c> (raw) for pixels; the original encoder's when disabled.</summary>
    public Tensor EncodeImage(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        return RunPrompted(RunSharedTrunk(pixelValues)).ImageFeatures.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Saves the prompts as a prompt-only checkpoint, atomically: a safetensors file with the prompt tensor (key
    /// <c>prompts</c>) and the adapter config in <c>__metadata__["rvpt_adapter"]</c> (prompted blocks, D, b, init,
    /// dropout, the class names and templates, the base model's config and weights signature), and the same JSON
    /// beside it as <c>&lt;file&gt;.json</c>. The one way to save prompts; <see cref="Load"/> reads them back.
    /// </summary>
    /// <param name="path">The file to write.</param>
    public void Save(string path) => PromptCheckpoint.Save(this, path);

    /// <summary>
    /// Loads prompts saved with <see cref="Save"/> onto <paramref name="clip"/>, checking the adapter format, the
    /// tower's width and depth, the base model's config and — unless <paramref name="verifyBaseWeights"/> is false —
    /// that it holds the weights the prompts were trained on, in any of float32, float16 or bfloat16.
    /// </summary>
    /// <param name="path">The prompt file.</param>
    /// <param name="clip">The base model (not owned).</param>
    /// <param name="verifyBaseWeights">Whether to check the model's weights against the file's signature. Default true.</param>
    /// <returns>The prompts, owned by the caller.</returns>
    /// <exception cref="InvalidDataException">The file is not a prompt checkpoint, or it was trained for another model.</exception>
    public static DeepPromptInjector Load(string path, ClipModel clip, bool verifyBaseWeights = true) =>
        PromptCheckpoint.Load(path, clip, verifyBaseWeights);

    private static Tensor StackTokens(List<Tensor> tokens, Tensor trunk) =>
        tokens.Count > 0 ? stack(tokens, 1) : zeros(new long[] { trunk.shape[0], 0, trunk.shape[2] }, trunk.dtype, trunk.device);
}
