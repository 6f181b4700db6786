using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>torchvision 0.14's <c>Resize(S)</c> + <c>CenterCrop(S)</c> geometry.</summary>
public sealed class ClipImageGeometryTests
{
    /// <summary>Short side to S, long side truncated, crop offsets rounded half to even.</summary>
    [Theory]
    [InlineData(320, 240, 224, 298, 224, 0, 37)] // landscape downscale; 298.67 truncates, (298 - 224) / 2 = 37
    [InlineData(200, 301, 224, 224, 337, 56, 0)] // portrait upscale; 56.5 -> 56 (half to even)
    [InlineData(224, 339, 224, 224, 339, 58, 0)] // no resize; 57.5 -> 58 (half to even)
    [InlineData(500, 500, 224, 224, 224, 0, 0)] // square
    [InlineData(3, 1000, 224, 224, 74666, 37221, 0)] // 74666.67 truncates
    [InlineData(1000, 3, 224, 74666, 224, 0, 37221)]
    [InlineData(10, 20, 32, 32, 64, 16, 0)] // another image size
    public void Compute_matches_torchvision(int width, int height, int size, int resizedWidth, int resizedHeight, int top, int left)
    {
        var g = ClipImageGeometry.Compute(width, height, size);
        Assert.Equal(new ClipImageGeometry(width, height, resizedWidth, resizedHeight, top, left, size), g);
    }

    /// <summary>An image whose short side already is S is not resampled.</summary>
    [Fact]
    public void Short_side_equal_to_size_needs_no_resize()
    {
        Assert.False(ClipImageGeometry.Compute(224, 400, 224).NeedsResize);
        Assert.False(ClipImageGeometry.Compute(224, 224, 224).NeedsResize);
        Assert.True(ClipImageGeometry.Compute(225, 400, 224).NeedsResize);
    }

    /// <summary>A side smaller than the crop is padded like torchvision: the extra pixel of an odd padding goes after.</summary>
    [Theory]
    [InlineData(220, 224, -2)]
    [InlineData(221, 224, -1)] // padding 3: 1 before, 2 after
    [InlineData(224, 224, 0)]
    [InlineData(227, 224, 2)] // 1.5 -> 2
    [InlineData(229, 224, 2)] // 2.5 -> 2
    public void Crop_offset_follows_torchvision(int extent, int crop, int expected)
    {
        Assert.Equal(expected, ClipImageGeometry.CropOffset(extent, crop));
    }

    /// <summary>Non-positive sizes and resized sides beyond int range are refused.</summary>
    [Fact]
    public void Invalid_input_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipImageGeometry.Compute(0, 10, 224));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipImageGeometry.Compute(10, -1, 224));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipImageGeometry.Compute(10, 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipImageGeometry.Compute(1, 20_000_000, 224));
    }
}
