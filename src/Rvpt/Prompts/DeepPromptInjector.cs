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

    /// <summary>Whether the prompts are applied. With false, every method gives the original encoder's results.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Number of trainable values (ViT-B/32 defaults: 9 x 50 x 768 = 345,600).</summary>
    public long TrainableParameterCount => prompts.numel();

    /// <summary>Trainable values as a fraction of the CLIP model's parameters.</summary>
    public double TrainableFraction => (double)TrainableParameterCount / _clip.Config.ParameterCount;

    /// <summary>Blocks 1..D on <c>[N, 3, S, S]</c> pixels, without gradient: <c>[N, tokens, width]</c>.</summary>
    public Tensor RunSharedTrunk(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = _clip.Visual.Embed(pixelValues);
        for (int d = 1; d <= UnpromptedDepth; d++) x = _clip.Visual.Blocks[d - 1].forward(x);
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
        var x = trunk;
        var tokens = new List<Tensor>();
        for (int d = UnpromptedDepth + 1; d <= _clip.Config.Vision.Layers; d++)
        {
            x = _clip.Visual.Blocks[d - 1].forward(x);
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
        var layers = _clip.Config.Vision.Layers;
        bool active = Enabled && _prompted.Length > 0 && Options.Tokens > 0;
        var x = trunk;
        var tokens = new List<Tensor>();
        int b = active ? Options.Tokens : 0;
        bool inserted = false;
        for (int d = UnpromptedDepth + 1; d <= layers; d++)
        {
            if (active && _promptIndex.TryGetValue(d, out var pi))
            {
                var p = prompts[pi].to_type(x.dtype);
                if (Options.Dropout > 0 && training) p = Dropout(p);
                p = p.unsqueeze(0).expand(x.shape[0], -1, -1);
                var cls = x.narrow(1, 0, 1);
                var patches = x.narrow(1, inserted ? 1 + b : 1, x.shape[1] - (inserted ? 1 + b : 1));
                x = cat(new[] { cls, p, patches }, 1);
                inserted = true;
            }
            x = _clip.Visual.Blocks[d - 1].forward(x);
            tokens.Add(x.select(1, 0));
        }
        var features = _clip.Visual.Pool(x);
        return new PromptedOutput(features.MoveToOuterDisposeScope(), StackTokens(tokens, trunk).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Reseeds the generator of the prompt-dropout masks (its own, not libtorch's global one, so that other code
    /// drawing random numbers in the process cannot change them). <see cref="FewShotTrainer"/> reseeds it before every
    /// step from (seed, epoch, step), which makes a run resumable at any step.
    /// </summary>
    internal void SeedDropout(long seed) => _dropoutGenerator.manual_seed(seed);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _dropoutGenerator.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Inverted dropout with masks drawn on the CPU from <see cref="_dropoutGenerator"/>.</summary>
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

    /// <summary>Saves the prompts as a prompt-only checkpoint (see <see cref="PromptCheckpoint"/>).</summary>
    public void Save(string path) => PromptCheckpoint.Save(this, path);

    /// <summary>Loads prompts saved with <see cref="Save"/> onto <paramref name="clip"/>, checking it is the same model.</summary>
    public static DeepPromptInjector Load(string path, ClipModel clip, bool verifyBaseWeights = true) =>
        PromptCheckpoint.Load(path, clip, verifyBaseWeights);

    private static Tensor StackTokens(List<Tensor> tokens, Tensor trunk) =>
        tokens.Count > 0 ? stack(tokens, 1) : zeros(new long[] { trunk.shape[0], 0, trunk.shape[2] }, trunk.dtype, trunk.device);
}
