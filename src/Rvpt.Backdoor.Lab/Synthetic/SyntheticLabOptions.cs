namespace Rvpt.Backdoor.Lab;

/// <summary>
/// Settings of <see cref="SyntheticBackdoorLab"/>: the world, the clean model's recipe, the triggers at the world's
/// scale, and how backdoors are planted. Every value is part of the cache keys of the models the lab builds.
/// </summary>
public sealed record SyntheticLabOptions
{
    /// <summary>
    /// Smoke-test settings (the demo's and <c>rvpt lab</c>'s <c>--quick</c>): a barely trained clean model and short
    /// planting, so every phase runs in about a minute; the numbers mean nothing.
    /// </summary>
    public static SyntheticLabOptions Quick { get; } = new()
    {
        Pretraining = new SyntheticPretrainingOptions { Pairs = 1_024, Epochs = 1, WarmupSteps = 4 },
        Planting = new BackdoorPlantingOptions
        {
            Pairs = 256, PoisonFraction = 0.1,
            Training = new SyntheticPretrainingOptions { LearningRate = 1e-4, Epochs = 1, BatchSize = 64, WarmupSteps = 2 },
        },
        BadClip = new BadClipOptions { PatchSize = 28, Steps = 5 },
        BadClipImages = 96,
    };

    /// <summary>
    /// The lab of the calibrated world (docs/results.md, "256 shots for 8 epochs: a world that passes the three gates"):
    /// a width-192, 6-block clean model with the lab's recipe otherwise, and a defended task whose shapes are drawn at
    /// 0.93 of their pre-training size: the world of the demo's default and <c>--calibrated</c> presets. BadCLIP is
    /// planted there with 5% poison (the presets set it per attack); the defender's settings are the presets'.
    /// </summary>
    public static SyntheticLabOptions Calibrated { get; } = new()
    {
        Model = new SyntheticModelOptions { VisionWidth = 192, VisionLayers = 6, VisionHeads = 6 },
        DefendedWorld = new SyntheticWorldOptions().WithShapeScale(0.93),
    };

    /// <summary>The world the clean model is pre-trained on and the attacker draws pairs from. Default 32 px, the twelve default shapes.</summary>
    public SyntheticWorldOptions World { get; init; } = new();

    /// <summary>
    /// The defended task: the classes of the defender's few-shot pool, validation and test sets, a subset of the
    /// world's (as ImageNet is a narrow task beside CLIP's web-scale pre-training). Null means all the world's classes. Default null.
    /// </summary>
    public IReadOnlyList<string>? DefendedClasses { get; init; }

    /// <summary>
    /// The world the defended task's images (the defender's pool, validation and test sets) are drawn from, when it
    /// differs from <see cref="World"/>: a defended task shifted away from pre-training, as ImageNet is from CLIP's web
    /// pairs, for example <c>World.WithShapeScale(0.93)</c> (docs/results.md). It must have <see cref="World"/>'s image
    /// size and classes. The attacker's pairs and CleanCLIP's clean pairs stay in <see cref="World"/>. Not part of any
    /// model's cache key (no model is trained on it). Default null: the defended task is drawn from <see cref="World"/>.
    /// </summary>
    public SyntheticWorldOptions? DefendedWorld { get; init; }

    /// <summary>The architecture of the clean model. Default <see cref="SyntheticModelOptions"/>' defaults.</summary>
    public SyntheticModelOptions Model { get; init; } = new();

    /// <summary>The clean model's pre-training recipe. Default <see cref="SyntheticPretrainingOptions"/>'s defaults.</summary>
    public SyntheticPretrainingOptions Pretraining { get; init; } = new();

    /// <summary>How backdoors are planted. Default <see cref="BackdoorPlantingOptions"/>'s defaults.</summary>
    public BackdoorPlantingOptions Planting { get; init; } = new();

    /// <summary>The class poisoned captions name. Default "star".</summary>
    public string TargetClass { get; init; } = "star";

    /// <summary>
    /// BadNets trigger. Default a checkerboard of side 28 at the 224 reference, i.e. 4 px (half a ViT patch) at 32 px
    /// (the paper's 16 px at 224 would be 2 px, too small for a 4 x 4-cell checkerboard), in the bottom-right corner as
    /// in the original BadNets. The paper places it at random; on the synthetic model a randomly placed patch did not
    /// plant (ASR 1-11% over the recipes in docs/results.md). The lab pins the pattern: the library's default (CleanCLIP's
    /// per-image mean + noise patch) planted to only 46% ASR with the lab's recipe at this corner (docs/results.md).
    /// </summary>
    public BadNetsOptions BadNets { get; init; } = new()
    {
        PatchSize = 28, Position = PatchPosition.Named(PatchPositionKind.BottomRight), Pattern = PatchPattern.Checkerboard(),
    };

    /// <summary>
    /// Blended trigger. Default the paper's 0.2 blend of one fixed noise pattern (<see cref="BlendedNoise.Fixed"/>), the
    /// lab's calibrated trigger: CleanCLIP's fresh noise per image (the library's default) did not plant with the lab's
    /// recipe (5% ASR, docs/results.md).
    /// </summary>
    public BlendedOptions Blended { get; init; } = new() { Noise = BlendedNoise.Fixed };

    /// <summary>WaNet trigger. Default a 4 x 4 control grid at strength 1 (the paper's s = 1), as the lab was calibrated.</summary>
    public WaNetOptions WaNet { get; init; } = new() { GridSize = 4, Strength = 1.0 };

    /// <summary>BadCLIP patch optimisation on the clean model. Default side 28 at 224 (4 px at 32 px), 200 Adam steps.</summary>
    public BadClipOptions BadClip { get; init; } = new() { PatchSize = 28, Steps = 200 };

    /// <summary>Images the BadCLIP patch is optimised on (the attacker's own clean images). Default 1,200.</summary>
    public int BadClipImages { get; init; } = 1_200;

    /// <summary>ISSBA's StegaStamp model: trained on the world and cached, or read from a file. Default <see cref="IssbaLabOptions"/>' defaults.</summary>
    public IssbaLabOptions Issba { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Issba, nameof(Issba));
        Issba.Validate();
        Pretraining.Validate();
        Planting.Validate();
        BadNets.Validate();
        WaNet.Validate();
        BadClip.Validate();
        var defended = DefendedClasses ?? World.ClassNames;
        var foreign = defended.Where(c => !World.ClassNames.Contains(c)).ToList();
        if (foreign.Count > 0)
            throw new ArgumentException($"DefendedClasses {string.Join(", ", foreign)} are not classes of the world ({string.Join(", ", World.ClassNames)}).", nameof(DefendedClasses));
        if (defended.Count < 2 || defended.Distinct().Count() != defended.Count)
            throw new ArgumentException("DefendedClasses needs at least two distinct classes.", nameof(DefendedClasses));
        if (!defended.Contains(TargetClass))
            throw new ArgumentException($"TargetClass '{TargetClass}' is not one of the defended classes ({string.Join(", ", defended)}).", nameof(TargetClass));
        if (DefendedWorld is { } d && (d.ImageSize != World.ImageSize || !d.ClassNames.SequenceEqual(World.ClassNames)))
            throw new ArgumentException(
                $"DefendedWorld must draw the world's images and classes: image size {d.ImageSize} (world {World.ImageSize}), classes {string.Join(", ", d.ClassNames)} (world {string.Join(", ", World.ClassNames)}).",
                nameof(DefendedWorld));
        ArgumentNullException.ThrowIfNull(Model, nameof(Model));
        Model.ToConfig(World.ImageSize, 3);
        // Models are cached by their settings; a pattern tensor has no stable text form to key them by.
        if (BadNets.Pattern.Custom is not null || Blended.Pattern is not null)
            throw new ArgumentException("Custom trigger pattern tensors are not supported by the lab (its cache keys are the settings' text); use the seeded patterns.", nameof(BadNets));
        if (BadClipImages < 2) throw new ArgumentOutOfRangeException(nameof(BadClipImages), BadClipImages, "Must be >= 2.");
    }
}
