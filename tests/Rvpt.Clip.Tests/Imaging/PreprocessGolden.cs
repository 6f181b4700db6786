using Rvpt.Testing;
using TorchSharp.PyBridge;

namespace Rvpt.Clip.Tests;

/// <summary>
/// The expected outputs of OpenAI CLIP's <c>preprocess</c> (Pillow 9.4, torchvision 0.14) for the three images of
/// the tiny CLIP fixtures, from <c>preprocess_golden.safetensors</c> (see the fixtures' MANIFEST.md).
/// </summary>
internal sealed class PreprocessGolden
{
    public const int Size = 224;

    /// <summary>The fixture images, in the golden file's order.</summary>
    public static readonly string[] ImageFiles =
    [
        "img0_gradient_shapes_320x240.png",
        "img1_noise_texture_200x301.png",
        "img2_checker_500x500_q95_444.jpg",
    ];

    public const int JpegIndex = 2;

    private PreprocessGolden(long[] resizedHw, long[] cropTopLeft, float[] pixelValues, byte[] resizedCropped, DecodedImage[] decoded)
    {
        ResizedHw = resizedHw;
        CropTopLeft = cropTopLeft;
        PixelValues = pixelValues;
        ResizedCropped = resizedCropped;
        Decoded = decoded;
    }

    /// <summary>[3, 2] (height, width) after Resize.</summary>
    public long[] ResizedHw { get; }

    /// <summary>[3, 2] (top, left) of the crop.</summary>
    public long[] CropTopLeft { get; }

    /// <summary>[3, 3, 224, 224] expected model input.</summary>
    public float[] PixelValues { get; }

    /// <summary>[3, 224, 224, 3] uint8 after Resize + CenterCrop.</summary>
    public byte[] ResizedCropped { get; }

    /// <summary>Pillow's decoded pixels of each image.</summary>
    public DecodedImage[] Decoded { get; }

    public static string ImagePath(int index) => Fixtures.ClipTinyFile(ImageFiles[index]);

    public ReadOnlySpan<byte> ResizedCroppedOf(int index) => ResizedCropped.AsSpan(index * Size * Size * 3, Size * Size * 3);

    public ReadOnlySpan<float> PixelValuesOf(int index) => PixelValues.AsSpan(index * 3 * Size * Size, 3 * Size * Size);

    /// <summary>Loads the golden file (skips the test, or fails under CI, when the fixtures are missing).</summary>
    public static PreprocessGolden Load()
    {
        var tensors = Safetensors.LoadStateDict(Fixtures.ClipTinyFile("preprocess_golden.safetensors"));
        try
        {
            var decoded = new DecodedImage[ImageFiles.Length];
            for (var i = 0; i < decoded.Length; i++)
            {
                var t = tensors[$"decoded_rgb_u8_{i}"];
                decoded[i] = new DecodedImage((int)t.shape[0], (int)t.shape[1], t.data<byte>().ToArray());
            }
            return new PreprocessGolden(
                tensors["resized_hw"].data<long>().ToArray(),
                tensors["crop_top_left"].data<long>().ToArray(),
                tensors["pixel_values"].data<float>().ToArray(),
                tensors["resized_cropped_u8"].data<byte>().ToArray(),
                decoded);
        }
        finally
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
    }

    /// <summary>Packed RGB pixels, [Height, Width, 3].</summary>
    public sealed record DecodedImage(int Height, int Width, byte[] Pixels);
}
