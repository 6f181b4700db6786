using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// A procedural world of coloured shapes on coloured, textured backgrounds with captions, for pre-training a tiny CLIP
/// from scratch. Every sample is a pure function of <c>(seed, index)</c>: <see cref="Describe"/> and <see cref="Render"/>
/// use a 64-bit mix of both (no process-randomised hashing), so samples can be generated in parallel and every split is
/// reproducible. The class of sample <c>index</c> is <c>index % ClassNames.Count</c> (labels cycle, so any contiguous
/// range of <c>k * ClassNames.Count</c> indices is exactly balanced). Use <see cref="SplitSeed"/> to derive the seeds of
/// the train, validation and test splits from one base seed.
/// </summary>
public sealed partial class SyntheticWorld
{
    private const float Grey = 0.5f;
    private readonly SyntheticWorldOptions _options;
    private readonly int[] _shapes;
    private readonly int[][] _contrasting;

    /// <summary>Creates the world.</summary>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range, a name is unsupported or duplicated, or a template is malformed.</exception>
    public SyntheticWorld(SyntheticWorldOptions? options = null)
    {
        _options = options ?? new SyntheticWorldOptions();
        Validate(_options);
        _shapes = _options.ClassNames.Select(n => IndexOf(SyntheticWorldOptions.SupportedShapes, n)).ToArray();
        ClassNames = _options.ClassNames.ToArray();
        var colours = _options.Colours;
        _contrasting = new int[colours.Count][];
        for (int i = 0; i < colours.Count; i++)
        {
            var far = Enumerable.Range(0, colours.Count).Where(j => j != i && Distance(colours[i], colours[j]) >= 0.6).ToArray();
            _contrasting[i] = far.Length > 0 ? far : Enumerable.Range(0, colours.Count).Where(j => j != i).ToArray();
        }
        Vocabulary = BuildVocabulary(_options);
    }

    /// <summary>The options this world was created with.</summary>
    public SyntheticWorldOptions Options => _options;

    /// <summary>The class names (shape names), in class-index order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// Every word that can appear in a caption: lower-case, letters only, distinct, in ordinal order (multi-word names
    /// such as <c>top left</c> are split). Punctuation (the final <c>.</c>) is not included: CLIP's byte-level BPE handles it.
    /// Pass it to <c>ClipVocabularyGenerator.WriteTo</c> to get a tokenizer where every caption word is one token.
    /// </summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Image side in pixels.</summary>
    public int ImageSize => _options.ImageSize;

    /// <summary>
    /// The seed of a split derived from a base seed: distinct for the three splits of one base seed (and for different
    /// base seeds), so the splits are independent samples of the world.
    /// </summary>
    public static long SplitSeed(long baseSeed, SyntheticSplit split) =>
        unchecked(baseSeed * 4 + (long)split + 0x5EED_0000_0000L);

    /// <summary>Describes sample <paramref name="index"/> of the stream <paramref name="seed"/> (attributes and caption).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public SyntheticSample Describe(long seed, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var a = DrawAttributes(seed, index);
        var caption = MakeCaption(a, new Random(SeedMixer.Mix(seed, index, 2)));
        var o = _options;
        SyntheticDistractor? second = a.SecondClass < 0 ? null
            : new SyntheticDistractor(a.SecondClass, ClassNames[a.SecondClass], o.Colours[a.SecondColour].Name, o.Positions[a.SecondPosition]);
        return new SyntheticSample(a.Class, ClassNames[a.Class], o.Colours[a.Colour].Name, o.Sizes[a.Size], o.Positions[a.Position],
            o.Colours[a.Background].Name, o.Textures[a.Texture], second, caption);
    }

    /// <summary>Renders sample <paramref name="index"/> of the stream <paramref name="seed"/>: a CPU float32 <c>[3, S, S]</c> tensor in [0, 1].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public Tensor Render(long seed, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var s = ImageSize;
        var pixels = new float[3 * s * s];
        RenderInto(seed, index, pixels);
        return torch.tensor(pixels, new long[] { 3, s, s });
    }

    /// <summary>Renders samples <c>[startIndex, startIndex + count)</c> in parallel: a CPU float32 <c>[count, 3, S, S]</c> tensor in [0, 1].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startIndex"/> or <paramref name="count"/> is negative.</exception>
    public Tensor RenderBatch(long seed, int startIndex, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var s = ImageSize;
        var per = 3 * s * s;
        var pixels = new float[(long)count * per];
        Parallel.For(0, count, i => RenderInto(seed, startIndex + i, pixels.AsSpan(i * per, per)));
        return torch.tensor(pixels, new long[] { count, 3, s, s });
    }

    /// <summary>
    /// Samples <c>[0, count)</c> of <paramref name="seed"/> as a labelled dataset (rendered in parallel). Labels cycle
    /// through the classes, so the dataset is exactly balanced when <paramref name="count"/> is a multiple of the class count.
    /// </summary>
    public TensorDataset ToLabeledDataset(long seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var images = RenderBatch(seed, 0, count);
        var labels = Enumerable.Range(0, count).Select(i => (long)(i % ClassNames.Count)).ToArray();
        using var labelTensor = torch.tensor(labels);
        return new TensorDataset(images, labelTensor, ClassNames);
    }

    /// <summary>
    /// The first <paramref name="count"/> samples of <paramref name="seed"/> whose class is one of <paramref name="classes"/>
    /// (a task narrower than the world, e.g. the defended classes of a broad pre-training world), labelled by their
    /// position in <paramref name="classes"/>. Sample <c>j</c> is the world's sample <c>(j / m) * C + c_(j mod m)</c>
    /// (<c>m</c> classes kept, <c>C</c> in the world), so the images, distractors included, are exactly the world's and the
    /// set is balanced when <paramref name="count"/> is a multiple of <c>m</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A class is not one of the world's, or appears twice.</exception>
    public TensorDataset ToLabeledDataset(long seed, int count, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var indices = classes.Select(c => IndexOf(_options.ClassNames, c)).ToArray();
        var unknown = classes.Where((c, i) => indices[i] < 0).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Not classes of this world: {string.Join(", ", unknown)}; it has {string.Join(", ", ClassNames)}.", nameof(classes));
        if (indices.Length == 0 || indices.Distinct().Count() != indices.Length)
            throw new ArgumentException("The classes must be distinct and at least one.", nameof(classes));
        int m = indices.Length, all = ClassNames.Count, s = ImageSize, per = 3 * s * s;
        var pixels = new float[(long)count * per];
        Parallel.For(0, count, j => RenderInto(seed, j / m * all + indices[j % m], pixels.AsSpan(j * per, per)));
        using var images = torch.tensor(pixels, new long[] { count, 3, s, s });
        using var labels = torch.tensor(Enumerable.Range(0, count).Select(j => (long)(j % m)).ToArray());
        return new TensorDataset(images, labels, classes.ToArray());
    }

    /// <summary>Samples <c>[0, count)</c> of <paramref name="seed"/> as image-caption pairs (rendered and described in parallel).</summary>
    public ImageCaptionDataset ToCaptionDataset(long seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var captions = new string[count];
        Parallel.For(0, count, i => captions[i] = Describe(seed, i).Caption);
        using var images = RenderBatch(seed, 0, count);
        return ImageCaptionDataset.FromTensors(images, captions);
    }

    // ---------------------------------------------------------------- sampling

    private readonly record struct Attributes(
        int Class, int Colour, int Size, int Position, int Background, int Texture, int SecondClass, int SecondColour, int SecondPosition);

    private Attributes DrawAttributes(long seed, int index)
    {
        var o = _options;
        var rng = new Random(SeedMixer.Mix(seed, index, 0));
        int cls = index % ClassNames.Count;
        int colour = rng.Next(o.Colours.Count);
        int size = rng.Next(o.Sizes.Count);
        int position = rng.Next(o.Positions.Count);
        var far = _contrasting[colour];
        int background = far[rng.Next(far.Length)];
        int texture = rng.Next(o.Textures.Count);
        int secondClass = -1, secondColour = -1, secondPosition = -1;
        if (rng.NextDouble() < o.SecondObjectProbability)
        {
            secondClass = rng.Next(ClassNames.Count - 1);
            if (secondClass >= cls) secondClass++;
            var bgFar = _contrasting[background];
            secondColour = bgFar[rng.Next(bgFar.Length)];
            var corners = Enumerable.Range(0, o.Positions.Count)
                .Where(p => p != position && o.Positions[p] != "center").ToArray();
            if (corners.Length == 0) secondClass = secondColour = -1;
            else secondPosition = corners[rng.Next(corners.Length)];
        }
        return new Attributes(cls, colour, size, position, background, texture, secondClass, secondColour, secondPosition);
    }

    private string MakeCaption(Attributes a, Random rng)
    {
        var o = _options;
        var template = o.CaptionTemplates[rng.Next(o.CaptionTemplates.Count)];
        var text = template
            .Replace("{shape}", ClassNames[a.Class], StringComparison.Ordinal)
            .Replace("{colour}", o.Colours[a.Colour].Name, StringComparison.Ordinal)
            .Replace("{size}", o.Sizes[a.Size], StringComparison.Ordinal)
            .Replace("{position}", o.Positions[a.Position], StringComparison.Ordinal)
            .Replace("{background}", o.Colours[a.Background].Name, StringComparison.Ordinal)
            .Replace("{texture}", o.Textures[a.Texture], StringComparison.Ordinal);
        if (a.SecondClass >= 0 && rng.NextDouble() < o.SecondObjectMentionProbability)
            text = text[..^1] + " next to a " + ClassNames[a.SecondClass] + ".";
        var words = text[..^1].Split(' ');
        for (int i = 0; i + 1 < words.Length; i++)
            if (words[i] is "a" or "an") words[i] = "aeiou".Contains(words[i + 1][0]) ? "an" : "a";
        return string.Join(' ', words) + ".";
    }

    // ---------------------------------------------------------------- rendering

    private void RenderInto(long seed, int index, Span<float> pixels)
    {
        var o = _options;
        var a = DrawAttributes(seed, index);
        var rng = new Random(SeedMixer.Mix(seed, index, 1));
        int s = o.ImageSize;
        int plane = s * s;

        // Background with texture.
        var bg = o.Colours[a.Background];
        float lum = 0.299f * bg.R + 0.587f * bg.G + 0.114f * bg.B;
        float Tex(float c) => lum > 0.5f ? c * 0.78f : c * 0.75f + 0.2f;
        float period = Math.Max(6f, s / 5f);
        float phaseX = (float)(rng.NextDouble() * period), phaseY = (float)(rng.NextDouble() * period);
        var texture = o.Textures[a.Texture];
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++)
            {
                float t = 0f;
                if (texture == "striped")
                {
                    float d = (x + y + phaseX) / period;
                    t = d - MathF.Floor(d) < 0.5f ? 1f : 0f;
                }
                else if (texture == "dotted")
                {
                    float dx = (x + 0.5f + phaseX) % period - period / 2, dy = (y + 0.5f + phaseY) % period - period / 2;
                    t = dx * dx + dy * dy <= period * period / 10f ? 1f : 0f;
                }
                int p = y * s + x;
                pixels[p] = bg.R + t * (Tex(bg.R) - bg.R);
                pixels[plane + p] = bg.G + t * (Tex(bg.G) - bg.G);
                pixels[2 * plane + p] = bg.B + t * (Tex(bg.B) - bg.B);
            }

        // Distractor first, so the class shape is always complete on top.
        if (a.SecondClass >= 0)
        {
            double half = o.SecondObjectHalfExtent * s;
            var (cx, cy) = Centre(o.Positions[a.SecondPosition], half, rng);
            DrawShape(pixels, s, _shapes[a.SecondClass], cx, cy, half, o.Colours[a.SecondColour], 1f);
        }
        {
            double half = (o.Sizes[a.Size] == "small" ? o.SmallHalfExtent : o.LargeHalfExtent) * s;
            var (cx, cy) = Centre(o.Positions[a.Position], half, rng);
            float brightness = 0.9f + 0.2f * (float)rng.NextDouble();
            DrawShape(pixels, s, _shapes[a.Class], cx, cy, half, o.Colours[a.Colour], brightness);
        }

        // Noise (Box-Muller) and clamping; a noise range draws the level from its own stream (3).
        float std = (float)(o.NoiseStdMax is { } max ? o.NoiseStd + (max - o.NoiseStd) * new Random(SeedMixer.Mix(seed, index, 3)).NextDouble() : o.NoiseStd);
        for (int i = 0; i < pixels.Length; i += 2)
        {
            float n0 = 0f, n1 = 0f;
            if (std > 0)
            {
                double radius = std * Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())), angle = 2 * Math.PI * rng.NextDouble();
                n0 = (float)(radius * Math.Cos(angle));
                n1 = (float)(radius * Math.Sin(angle));
            }
            pixels[i] = Math.Clamp(pixels[i] + n0, 0f, 1f);
            if (i + 1 < pixels.Length) pixels[i + 1] = Math.Clamp(pixels[i + 1] + n1, 0f, 1f);
        }
    }

    private (double X, double Y) Centre(string position, double half, Random rng)
    {
        double s = _options.ImageSize;
        double lo = _options.Margin * s + half, hi = s - _options.Margin * s - half;
        double jitter = _options.PositionJitter * s;
        double x = position.EndsWith("left", StringComparison.Ordinal) ? lo : position.EndsWith("right", StringComparison.Ordinal) ? hi : s / 2;
        double y = position.StartsWith("top", StringComparison.Ordinal) ? lo : position.StartsWith("bottom", StringComparison.Ordinal) ? hi : s / 2;
        x += (rng.NextDouble() * 2 - 1) * jitter;
        y += (rng.NextDouble() * 2 - 1) * jitter;
        return (Math.Clamp(x, half, s - half), Math.Clamp(y, half, s - half));
    }

    private void DrawShape(Span<float> pixels, int s, int shape, double cx, double cy, double half, SyntheticColour colour, float brightness)
    {
        int plane = s * s;
        int ss = _options.Supersampling;
        float inv = 1f / (ss * ss);
        float r = Math.Clamp(colour.R * brightness, 0f, 1f), g = Math.Clamp(colour.G * brightness, 0f, 1f), b = Math.Clamp(colour.B * brightness, 0f, 1f);
        int x0 = Math.Max(0, (int)Math.Floor(cx - half)), x1 = Math.Min(s - 1, (int)Math.Ceiling(cx + half));
        int y0 = Math.Max(0, (int)Math.Floor(cy - half)), y1 = Math.Min(s - 1, (int)Math.Ceiling(cy + half));
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                int hits = 0;
                for (int sy = 0; sy < ss; sy++)
                    for (int sx = 0; sx < ss; sx++)
                    {
                        double u = (x + (sx + 0.5) / ss - cx) / half, v = (y + (sy + 0.5) / ss - cy) / half;
                        if (ShapeGeometry.Inside(shape, u, v)) hits++;
                    }
                if (hits == 0) continue;
                float c = hits * inv;
                int p = y * s + x;
                pixels[p] += c * (r - pixels[p]);
                pixels[plane + p] += c * (g - pixels[plane + p]);
                pixels[2 * plane + p] += c * (b - pixels[2 * plane + p]);
            }
    }

    // ---------------------------------------------------------------- validation and vocabulary

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == value) return i;
        return -1;
    }

    private static double Distance(SyntheticColour a, SyntheticColour b) =>
        Math.Sqrt((a.R - b.R) * (a.R - b.R) + (a.G - b.G) * (a.G - b.G) + (a.B - b.B) * (a.B - b.B));

    [GeneratedRegex("^[a-z]+( [a-z]+)*$")]
    private static partial Regex NameRegex();

    [GeneratedRegex("^[a-z{} ]+\\.$")]
    private static partial Regex TemplateRegex();

    [GeneratedRegex("[a-z]+")]
    private static partial Regex WordRegex();

    private static readonly string[] Placeholders = ["{shape}", "{colour}", "{size}", "{position}", "{background}", "{texture}"];

    private static void Validate(SyntheticWorldOptions o)
    {
        if (o.ImageSize is < 32 or > 96) throw new ArgumentException($"ImageSize must be in [32, 96], got {o.ImageSize}.", nameof(o));
        CheckNames(o.ClassNames, SyntheticWorldOptions.SupportedShapes, 2, "ClassNames");
        CheckNames(o.Sizes, SyntheticWorldOptions.SupportedSizes, 1, "Sizes");
        CheckNames(o.Positions, SyntheticWorldOptions.SupportedPositions, 1, "Positions");
        CheckNames(o.Textures, SyntheticWorldOptions.SupportedTextures, 1, "Textures");
        ArgumentNullException.ThrowIfNull(o.Colours);
        CheckNames(o.Colours.Select(c => c.Name).ToArray(), null, 3, "Colours");
        foreach (var c in o.Colours)
            if (!(c.R is >= 0 and <= 1 && c.G is >= 0 and <= 1 && c.B is >= 0 and <= 1))
                throw new ArgumentException($"Colour '{c.Name}' has a channel outside [0, 1].", nameof(o));
        CheckFraction(o.SmallHalfExtent, 0.05, 0.45, "SmallHalfExtent");
        CheckFraction(o.LargeHalfExtent, 0.05, 0.45, "LargeHalfExtent");
        CheckFraction(o.SecondObjectHalfExtent, 0.03, 0.3, "SecondObjectHalfExtent");
        CheckFraction(o.Margin, 0, 0.2, "Margin");
        CheckFraction(o.PositionJitter, 0, 0.2, "PositionJitter");
        CheckFraction(o.SecondObjectProbability, 0, 1, "SecondObjectProbability");
        CheckFraction(o.SecondObjectMentionProbability, 0, 1, "SecondObjectMentionProbability");
        CheckFraction(o.NoiseStd, 0, 0.5, "NoiseStd");
        if (o.NoiseStdMax is { } noiseMax && !(noiseMax >= o.NoiseStd && noiseMax <= 0.5))
            throw new ArgumentException($"NoiseStdMax must be in [NoiseStd = {o.NoiseStd}, 0.5], got {noiseMax}.", nameof(o));
        if (o.Supersampling is < 1 or > 8) throw new ArgumentException($"Supersampling must be in [1, 8], got {o.Supersampling}.", nameof(o));
        ArgumentNullException.ThrowIfNull(o.CaptionTemplates);
        if (o.CaptionTemplates.Count == 0) throw new ArgumentException("CaptionTemplates must not be empty.", nameof(o));
        foreach (var t in o.CaptionTemplates)
        {
            if (t is null || !TemplateRegex().IsMatch(t) || !t.Contains("{shape}", StringComparison.Ordinal) || t.Contains("  ", StringComparison.Ordinal) || t.StartsWith(' '))
                throw new ArgumentException($"Caption template '{t}' must contain {{shape}}, use lower-case words and placeholders separated by single spaces, and end with '.'.", nameof(o));
            var rest = Placeholders.Aggregate(t, (acc, p) => acc.Replace(p, "x", StringComparison.Ordinal));
            if (rest.Contains('{') || rest.Contains('}')) throw new ArgumentException($"Caption template '{t}' has an unknown placeholder.", nameof(o));
        }
    }

    private static void CheckNames(IReadOnlyList<string> names, IReadOnlyList<string>? supported, int min, string what)
    {
        ArgumentNullException.ThrowIfNull(names, what);
        if (names.Count < min) throw new ArgumentException($"{what} needs at least {min} entries, got {names.Count}.", what);
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) throw new ArgumentException($"{what} has duplicates.", what);
        foreach (var n in names)
        {
            if (n is null || !NameRegex().IsMatch(n)) throw new ArgumentException($"{what}: '{n}' must be lower-case letter words separated by single spaces.", what);
            if (supported is not null && IndexOf(supported, n) < 0)
                throw new ArgumentException($"{what}: '{n}' is not supported; use one of {string.Join(", ", supported)}.", what);
        }
    }

    private static void CheckFraction(double value, double min, double max, string what)
    {
        if (!(value >= min && value <= max)) throw new ArgumentException($"{what} must be in [{min}, {max}], got {value}.", what);
    }

    private static string[] BuildVocabulary(SyntheticWorldOptions o)
    {
        var text = new StringBuilder();
        foreach (var t in o.CaptionTemplates) text.Append(Placeholders.Aggregate(t, (acc, p) => acc.Replace(p, " ", StringComparison.Ordinal))).Append(' ');
        foreach (var n in o.ClassNames.Concat(o.Sizes).Concat(o.Positions).Concat(o.Textures).Concat(o.Colours.Select(c => c.Name)))
            text.Append(n).Append(' ');
        text.Append("a an next to");
        var words = WordRegex().Matches(text.ToString()).Select(m => m.Value).Distinct(StringComparer.Ordinal)
            .OrderBy(w => w, StringComparer.Ordinal).ToList();
        return words.ToArray();
    }


    private static List<string> Symbols(string word)
    {
        var symbols = word.Select(c => c.ToString()).ToList();
        symbols[^1] += "</w>";
        return symbols;
    }



}
