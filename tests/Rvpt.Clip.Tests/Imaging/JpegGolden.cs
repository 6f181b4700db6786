using TorchSharp.PyBridge;

namespace Rvpt.Clip.Tests;

/// <summary>
/// The JPEG golden files in <c>Golden/jpeg</c> (copied next to the test binaries): small photos that Pillow 9.4 saved
/// in every subsampling / quality / coding mode, plus a few cjpeg-made and grayscale files; Pillow's decoded pixels of
/// each and torchvision's CLIP preprocessing of each at 32 pixels (see README.md and generate_jpeg_golden.py there).
/// </summary>
internal sealed class JpegGolden
{
    /// <summary>Side of the preprocessed tensors in the golden file.</summary>
    public const int PreprocessSize = 32;

    private static readonly Lazy<JpegGolden> Instance = new(Read);

    private readonly Dictionary<string, (int Height, int Width, byte[] Pixels)> decoded = [];
    private readonly Dictionary<string, float[]> preprocessed = [];

    private JpegGolden()
    {
    }

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Golden", "jpeg");

    /// <summary>Stems of the files Pillow wrote: size, subsampling, quality and coding.</summary>
    public static IEnumerable<string> PillowStems =>
        from size in new[] { "64x48", "61x45" }
        from subsampling in new[] { "444", "422", "420" }
        from quality in new[] { 75, 95 }
        from coding in new[] { "baseline", "progressive" }
        select $"photo{size}_{subsampling}_q{quality}_{coding}";

    /// <summary>
    /// Stems of the other files: restart markers (baseline and progressive), 4:4:0 and 4:1:1 subsampling (all written
    /// by libjpeg-turbo's cjpeg) and a grayscale JPEG (Pillow).
    /// </summary>
    public static IEnumerable<string> OtherStems =>
    [
        "photo61x45_420_q90_restart",
        "photo61x45_420_q90_progressive_restart",
        "photo61x45_440_q90_baseline",
        "photo61x45_411_q90_baseline",
        "photo64x48_gray_q90_baseline",
    ];

    /// <summary>Stems of all golden files.</summary>
    public static IEnumerable<string> Stems => PillowStems.Concat(OtherStems);

    public static JpegGolden Load() => Instance.Value;

    public static string PathOf(string stem) => Path.Combine(Folder, stem + ".jpg");

    /// <summary>Pillow's <c>Image.open(file).convert('RGB')</c> pixels, packed RGB rows.</summary>
    public (int Height, int Width, byte[] Pixels) Decoded(string stem) => decoded[stem];

    /// <summary>OpenAI CLIP's <c>preprocess</c> at <see cref="PreprocessSize"/> pixels, [3, S, S] values.</summary>
    public float[] Preprocessed(string stem) => preprocessed[stem];

    private static JpegGolden Read()
    {
        var golden = new JpegGolden();
        var tensors = Safetensors.LoadStateDict(Path.Combine(Folder, "jpeg_golden.safetensors"));
        try
        {
            foreach (var stem in Stems)
            {
                var pixels = tensors[$"decoded_{stem}"];
                golden.decoded[stem] = ((int)pixels.shape[0], (int)pixels.shape[1], pixels.data<byte>().ToArray());
                golden.preprocessed[stem] = tensors[$"clip{PreprocessSize}_{stem}"].data<float>().ToArray();
            }
        }
        finally
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
        return golden;
    }
}
