using System.Text.Json.Serialization;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// Options of a <see cref="SyntheticWorld"/>. The class (shape) is the dominant, always-captioned factor; colour, size,
/// position, background colour, background texture and a second object are present but secondary nuisance factors.
/// </summary>
public sealed record SyntheticWorldOptions
{
    /// <summary>
    /// The supported shape names, i.e. the values allowed in <see cref="ClassNames"/>: the twelve of
    /// <see cref="DefaultShapes"/> first, then twelve more for worlds broader than the defended task.
    /// </summary>
    public static IReadOnlyList<string> SupportedShapes { get; } =
    [
        "circle", "square", "triangle", "cross", "star", "ring", "diamond", "heart", "arrow", "crescent", "bar", "frame",
        "pentagon", "hexagon", "octagon", "oval", "semicircle", "trapezoid", "parallelogram", "chevron", "hourglass", "kite", "drop", "tee",
    ];

    /// <summary>The default classes: the first twelve supported shapes.</summary>
    public static IReadOnlyList<string> DefaultShapes { get; } = SupportedShapes.Take(12).ToArray();

    /// <summary>The supported size names, i.e. the values allowed in <see cref="Sizes"/>.</summary>
    public static IReadOnlyList<string> SupportedSizes { get; } = ["small", "large"];

    /// <summary>The supported position names, i.e. the values allowed in <see cref="Positions"/>.</summary>
    public static IReadOnlyList<string> SupportedPositions { get; } = ["center", "top left", "top right", "bottom left", "bottom right"];

    /// <summary>The supported texture names, i.e. the values allowed in <see cref="Textures"/>.</summary>
    public static IReadOnlyList<string> SupportedTextures { get; } = ["plain", "striped", "dotted"];

    /// <summary>The default palette: eight well-separated named colours.</summary>
    public static IReadOnlyList<SyntheticColour> DefaultColours { get; } =
    [
        new("red", 0.90f, 0.10f, 0.10f),
        new("green", 0.10f, 0.72f, 0.20f),
        new("blue", 0.15f, 0.30f, 0.95f),
        new("yellow", 0.95f, 0.90f, 0.10f),
        new("purple", 0.60f, 0.20f, 0.80f),
        new("orange", 1.00f, 0.55f, 0.05f),
        new("white", 0.96f, 0.96f, 0.96f),
        new("black", 0.06f, 0.06f, 0.06f),
    ];

    /// <summary>
    /// The default caption templates. Placeholders: <c>{shape}</c> (required in every template), <c>{colour}</c>,
    /// <c>{size}</c>, <c>{position}</c>, <c>{background}</c> (background colour), <c>{texture}</c>. One in ten names only the
    /// class; the rest name one to three attributes.
    /// </summary>
    public static IReadOnlyList<string> DefaultCaptionTemplates { get; } =
    [
        "a {shape}.",
        "a {colour} {shape}.",
        "a {size} {shape}.",
        "a photo of a {size} {colour} {shape}.",
        "a {colour} {shape} on a {texture} {background} background.",
        "a {size} {shape} in the {position}.",
        "a photo of a {shape} on a {background} background.",
        "a {size} {colour} {shape} in the {position}.",
        "a picture of a {colour} {shape} on a {texture} background.",
        "a {shape} in the {position}.",
    ];

    /// <summary>Image side in pixels, 32 to 96. Default 32.</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>The class names, at least two distinct values of <see cref="SupportedShapes"/>. Default <see cref="DefaultShapes"/>.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = DefaultShapes;

    /// <summary>The palette used for shapes and backgrounds (at least three distinct names). Default <see cref="DefaultColours"/>.</summary>
    public IReadOnlyList<SyntheticColour> Colours { get; init; } = DefaultColours;

    /// <summary>The sizes drawn (values of <see cref="SupportedSizes"/>). Default both.</summary>
    public IReadOnlyList<string> Sizes { get; init; } = SupportedSizes;

    /// <summary>The positions drawn (values of <see cref="SupportedPositions"/>). Default all five.</summary>
    public IReadOnlyList<string> Positions { get; init; } = SupportedPositions;

    /// <summary>The background textures drawn (values of <see cref="SupportedTextures"/>). Default all three.</summary>
    public IReadOnlyList<string> Textures { get; init; } = SupportedTextures;

    /// <summary>Half-extent of a small shape as a fraction of <see cref="ImageSize"/>. Default 0.21 (about 13 px wide at 32 px).</summary>
    public double SmallHalfExtent { get; init; } = 0.21;

    /// <summary>Half-extent of a large shape as a fraction of <see cref="ImageSize"/>. Default 0.31 (about 20 px wide at 32 px).</summary>
    public double LargeHalfExtent { get; init; } = 0.31;

    /// <summary>Half-extent of the second object as a fraction of <see cref="ImageSize"/>. Default 0.12.</summary>
    public double SecondObjectHalfExtent { get; init; } = 0.12;

    /// <summary>Margin between a corner-positioned shape and the image border, as a fraction of <see cref="ImageSize"/>. Default 0.03.</summary>
    public double Margin { get; init; } = 0.03;

    /// <summary>Maximum random shift of a shape's centre, as a fraction of <see cref="ImageSize"/>. Default 0.03.</summary>
    public double PositionJitter { get; init; } = 0.03;

    /// <summary>Probability that a sample has a second (distractor) object, in [0, 1]. Default 0.3.</summary>
    public double SecondObjectProbability { get; init; } = 0.3;

    /// <summary>Probability that a caption mentions an existing second object ("... next to a ring."), in [0, 1]. Default 0.5.</summary>
    public double SecondObjectMentionProbability { get; init; } = 0.5;

    /// <summary>Standard deviation of the i.i.d. Gaussian pixel noise (values are clamped to [0, 1] afterwards). Default 0.02.</summary>
    public double NoiseStd { get; init; } = 0.02;

    /// <summary>
    /// When set, each image's noise standard deviation is drawn uniformly from [<see cref="NoiseStd"/>,
    /// <c>NoiseStdMax</c>] (its own random stream, so shapes, colours and captions are those of the fixed-noise world):
    /// a pre-training distribution that shows a range of noise levels, so a noisier defended task is a harder slice of it
    /// rather than a shift away from it. At most 0.5. Default null: every image uses <see cref="NoiseStd"/> (and the
    /// option is left out of model cache keys).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? NoiseStdMax { get; init; }

    /// <summary>Supersampling factor per axis for anti-aliased edges, 1 to 8. Default 3 (9 samples per pixel).</summary>
    public int Supersampling { get; init; } = 3;

    /// <summary>The caption templates, chosen uniformly per sample; see <see cref="DefaultCaptionTemplates"/>.</summary>
    public IReadOnlyList<string> CaptionTemplates { get; init; } = DefaultCaptionTemplates;

    /// <summary>
    /// These options with every shape and distractor drawn at <paramref name="factor"/> of its size (the small, large and
    /// second-object half-extents scaled; nothing else changes, so image <c>i</c> of a seed shows the same shape, colours,
    /// position and caption). Below 1 it is a defended task shifted away from pre-training that resembles no trigger
    /// (docs/results.md, "smaller shapes": 0.93).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not in (0, 1.5].</exception>
    public SyntheticWorldOptions WithShapeScale(double factor)
    {
        // Above 1.5 a large shape (half-extent 0.31) would leave the image.
        if (!(factor > 0 && factor <= 1.5))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The shape scale must be in (0, 1.5].");
        return this with
        {
            SmallHalfExtent = SmallHalfExtent * factor, LargeHalfExtent = LargeHalfExtent * factor, SecondObjectHalfExtent = SecondObjectHalfExtent * factor,
        };
    }
}
