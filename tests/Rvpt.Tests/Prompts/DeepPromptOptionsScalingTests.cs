using Rvpt.Clip;
using Xunit;

namespace Rvpt.Tests;

public class DeepPromptOptionsScalingTests
{
    [Theory]
    [InlineData(224, 32, 12, 3, 50)] // ViT-B/32: the paper's D = 3, b = 50
    [InlineData(224, 16, 12, 3, 50)] // ViT-B/16: 196 patches, capped at the paper's 50
    [InlineData(224, 14, 24, 6, 50)] // ViT-L/14
    [InlineData(32, 8, 4, 1, 16)]    // the synthetic tiny CLIP: 16 patches
    [InlineData(32, 4, 4, 1, 50)]    // 64 patches, capped
    [InlineData(32, 16, 2, 1, 4)]    // 4 patches; D stays below L
    [InlineData(32, 16, 1, 0, 4)]    // a one-block tower is prompted from block 1
    public void ScaledTo_keeps_the_papers_ratios(int image, int patch, int layers, int expectedDepth, int expectedTokens)
    {
        var vision = new ClipVisionConfig { ImageSize = image, PatchSize = patch, Layers = layers, Width = 64, Heads = 1 };
        var options = DeepPromptOptions.ScaledTo(vision);
        Assert.Equal(expectedDepth, options.UnpromptedDepth);
        Assert.Equal(expectedTokens, options.Tokens);
        Assert.NotEmpty(options.ResolveBlocks(layers));
    }
}
