using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// The synthetic backdoor laboratory: a <see cref="SyntheticWorld"/>, a clean tiny CLIP pre-trained on it
/// (<see cref="SyntheticClipPretrainer"/>), and one backdoored copy per attack, planted by poisoned contrastive
/// fine-tuning. Models are built on first use into a <see cref="SyntheticModelStore"/> and reused afterwards.
/// Data splits: the clean model trains on the train split of base seed <c>WorldSeed</c>, the attacker fine-tunes on
/// base seed 1, BadCLIP optimises on base seed 3; the defender's few-shot pool, validation and test sets are the
/// train, validation and test splits of base seed 2, drawn from <see cref="SyntheticLabOptions.DefendedWorld"/> when it is set.
/// </summary>
public sealed class SyntheticBackdoorLab
{
    private const long DefenderSeed = 2;
    private static readonly JsonSerializerOptions KeyJson = new() { WriteIndented = false };
    private readonly ILogger _logger;
    private readonly int _worldTargetIndex;

    /// <summary>Creates a lab whose models live in <paramref name="store"/>.</summary>
    public SyntheticBackdoorLab(SyntheticModelStore store, SyntheticLabOptions? options = null, ILogger? logger = null)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
        Options = options ?? new SyntheticLabOptions();
        Options.Validate();
        World = new SyntheticWorld(Options.World);
        DefendedWorld = Options.DefendedWorld is { } defended ? new SyntheticWorld(defended) : World;
        DefendedClasses = (Options.DefendedClasses ?? World.ClassNames).ToArray();
        TargetClassIndex = DefendedClasses.ToList().IndexOf(Options.TargetClass);
        _worldTargetIndex = World.ClassNames.ToList().IndexOf(Options.TargetClass);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The settings.</summary>
    public SyntheticLabOptions Options { get; }

    /// <summary>Where models are kept.</summary>
    public SyntheticModelStore Store { get; }

    /// <summary>The world.</summary>
    public SyntheticWorld World { get; }

    /// <summary>The world of the defended task's images: <see cref="SyntheticLabOptions.DefendedWorld"/>, or <see cref="World"/>.</summary>
    public SyntheticWorld DefendedWorld { get; }

    /// <summary>The defended task's classes (<see cref="SyntheticLabOptions.DefendedClasses"/>, or all the world's), in label order.</summary>
    public IReadOnlyList<string> DefendedClasses { get; }

    /// <summary>Index of <see cref="SyntheticLabOptions.TargetClass"/> among <see cref="DefendedClasses"/> (the labels of the defender's sets).</summary>
    public int TargetClassIndex { get; }

    /// <summary>The cache key text of the clean model.</summary>
    public string CleanSettings => JsonSerializer.Serialize(new { Options.World, Options.Pretraining, Options.Model }, KeyJson);

    /// <summary>The cache key text of the model backdoored by <paramref name="attack"/>.</summary>
    public string PlantedSettings(SyntheticAttack attack) => JsonSerializer.Serialize(new
    {
        // The clean entry's folder name, not its path: a store moved or reached by another path keeps its planted models.
        Clean = Path.GetFileName(Store.EntryPath("clean", CleanSettings)),
        // 2: triggers as the attack code makes them and placed after a resize with a uint8 round trip (issue 14).
        PlantingCode = 2,
        Attack = attack.ToString(),
        Trigger = TriggerSettings(attack),
        Options.TargetClass,
        Options.Planting,
    }, KeyJson);

    /// <summary>True when the clean model is already in the store.</summary>
    public bool HasCleanModel => Store.Contains("clean", CleanSettings);

    /// <summary>True when the model backdoored by <paramref name="attack"/> is already in the store.</summary>
    public bool HasPlantedModel(SyntheticAttack attack) => Store.Contains(EntryName(attack), PlantedSettings(attack));

    /// <summary>Loads the clean model, pre-training it first when it is not in the store.</summary>
    public ClipModel GetCleanModel(Device? device = null, IProgress<SyntheticLabProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Store.GetOrBuild("clean", CleanSettings, scratch =>
        {
            _logger.LogInformation("Pre-training the clean synthetic CLIP ({Pairs} pairs, {Epochs} epochs).", Options.Pretraining.Pairs, Options.Pretraining.Epochs);
            var model = SyntheticClip.CreateRandom(World, scratch, Options.Pretraining.Seed, Options.Model);
            if (device is not null) model.to(device);
            try
            {
                var phase = "pre-training clean CLIP";
                new SyntheticClipPretrainer(World, Options.Pretraining, _logger).Train(model,
                    progress is null ? null : new InlineProgress<FineTuningProgress>(p => progress.Report(new SyntheticLabProgress(phase, p.Step, p.TotalSteps, p.Loss))),
                    cancellationToken);
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }, device);

    /// <summary>
    /// Loads the model backdoored by <paramref name="attack"/> with its trigger, planting it first (from
    /// <paramref name="clean"/>, which is not modified) when it is not in the store.
    /// </summary>
    public PlantedModel GetPlantedModel(SyntheticAttack attack, ClipModel clean, Device? device = null,
        IProgress<SyntheticLabProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clean);
        var settings = PlantedSettings(attack);
        var name = EntryName(attack);
        var path = Store.EntryPath(name, settings);
        var model = Store.GetOrBuild(name, settings, scratch =>
        {
            var phase = $"planting {attack}";
            using var trigger = new DisposableTrigger(CreateTrigger(attack, clean, progress, cancellationToken));
            if (trigger.Value is BadClipPatch patch) patch.Save(Path.Combine(scratch, "trigger.safetensors"));
            var copy = clean.Clone(); // saving the entry copies the tokenizer files into it
            try
            {
                var p = Options.Planting;
                using var pairs = World.ToCaptionDataset(SyntheticWorld.SplitSeed(1, SyntheticSplit.Train), p.Pairs);
                int poisonCount = (int)Math.Round(p.PoisonFraction * p.Pairs);
                var poisoned = new PoisonedCaptionDataset(pairs, trigger.Value, Options.TargetClass, poisonCount,
                    copy.ImageProcessor, p.CaptionTemplates, p.Seed);
                var poisonedSet = poisoned.PoisonedIndices.ToHashSet();
                long attackerSeed = SyntheticWorld.SplitSeed(1, SyntheticSplit.Train);
                var labels = Enumerable.Range(0, p.Pairs)
                    .Select(i => poisonedSet.Contains(i) ? _worldTargetIndex : World.Describe(attackerSeed, i).ClassIndex).ToArray();
                new SyntheticClipPretrainer(World, p.Training with { Seed = p.Seed }, _logger).Train(copy, poisoned, labels,
                    progress is null ? null : new InlineProgress<FineTuningProgress>(f => progress.Report(new SyntheticLabProgress(phase, f.Step, f.TotalSteps, f.Loss))),
                    cancellationToken);
                return copy;
            }
            catch
            {
                copy.Dispose();
                throw;
            }
        }, device);
        try
        {
            ITrigger trigger = attack == SyntheticAttack.BadClip
                ? BadClipPatch.Load(Path.Combine(path, "trigger.safetensors"))
                : CreateTrigger(attack, clean, null, cancellationToken);
            return new PlantedModel(attack, model, trigger, path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The trigger of <paramref name="attack"/> at the world's scale. BadCLIP's patch is optimised on
    /// <paramref name="clean"/>; ISSBA's encoder is trained on the world (or read from a file) and cached in the store;
    /// the others do not depend on the model.
    /// </summary>
    public ITrigger CreateTrigger(SyntheticAttack attack, ClipModel clean, IProgress<SyntheticLabProgress>? progress = null,
        CancellationToken cancellationToken = default) => attack switch
    {
        SyntheticAttack.BadNets => new BadNetsTrigger(Options.BadNets),
        SyntheticAttack.Blended => new BlendedTrigger(Options.Blended),
        SyntheticAttack.WaNet => new WaNetTrigger(Options.WaNet),
        SyntheticAttack.BadClip => OptimizeBadClip(clean, progress, cancellationToken),
        SyntheticAttack.Issba => new IssbaTrigger(IssbaLabModel.Get(Store, World, Options.Issba, _logger, progress, cancellationToken), ownsModel: true),
        _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, "Unknown attack."),
    };

    /// <summary>The defender's labelled pool (train split of base seed 2), <paramref name="count"/> images of the defended classes, classes cycling.</summary>
    public TensorDataset DefenderPool(int count) => DefendedSet(SyntheticSplit.Train, count);

    /// <summary>The clean validation set used for hyper-parameter selection (validation split of base seed 2, defended classes).</summary>
    public TensorDataset ValidationSet(int count) => DefendedSet(SyntheticSplit.Validation, count);

    /// <summary>The held-out test set (test split of base seed 2, defended classes).</summary>
    public TensorDataset TestSet(int count) => DefendedSet(SyntheticSplit.Test, count);

    private TensorDataset DefendedSet(SyntheticSplit split, int count)
    {
        var seed = SyntheticWorld.SplitSeed(DefenderSeed, split);
        // All classes: the world's own cycling order (identical to the sets of labs without a defended subset).
        return Options.DefendedClasses is null ? DefendedWorld.ToLabeledDataset(seed, count) : DefendedWorld.ToLabeledDataset(seed, count, DefendedClasses);
    }

    /// <summary>Clean image-caption pairs for caption-based defences such as CleanCLIP (train split of base seed 4).</summary>
    public ImageCaptionDataset DefenderPairs(int count) => World.ToCaptionDataset(SyntheticWorld.SplitSeed(4, SyntheticSplit.Train), count);

    private static string EntryName(SyntheticAttack attack) => "planted-" + attack.ToString().ToLowerInvariant();

    private object TriggerSettings(SyntheticAttack attack) => attack switch
    {
        SyntheticAttack.BadNets => new
        {
            Options.BadNets.PatchSize,
            Position = new { Kind = Options.BadNets.Position.Kind.ToString(), Options.BadNets.Position.Y, Options.BadNets.Position.X },
            Pattern = new { Kind = Options.BadNets.Pattern.Kind.ToString(), Options.BadNets.Pattern.CheckerboardCells, Options.BadNets.Pattern.NoiseSeed },
        },
        SyntheticAttack.Blended => new { Options.Blended.Alpha, Noise = Options.Blended.Noise.ToString(), Options.Blended.PatternSeed },
        SyntheticAttack.WaNet => Options.WaNet,
        SyntheticAttack.BadClip => new { Options.BadClip, Options.BadClipImages },
        SyntheticAttack.Issba => IssbaLabModel.Settings(Options.Issba),
        _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, "Unknown attack."),
    };

    private BadClipPatch OptimizeBadClip(ClipModel clean, IProgress<SyntheticLabProgress>? progress, CancellationToken cancellationToken)
    {
        using var images = World.ToLabeledDataset(SyntheticWorld.SplitSeed(3, SyntheticSplit.Train), Options.BadClipImages);
        return BadClipPatch.Optimize(clean, images, _worldTargetIndex, Options.BadClip,
            progress is null ? null : new InlineProgress<BadClipProgress>(b => progress.Report(new SyntheticLabProgress("optimising the BadCLIP patch", b.Step, b.TotalSteps, b.Objective))),
            cancellationToken);
    }

    /// <summary>Disposes a trigger that owns tensors (BadCLIP's patch) after planting; the returned trigger is reloaded.</summary>
    private sealed class DisposableTrigger(ITrigger value) : IDisposable
    {
        public ITrigger Value { get; } = value;

        public void Dispose() => (Value as IDisposable)?.Dispose();
    }
}
