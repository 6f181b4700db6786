using Rvpt.Clip;
using Rvpt.Testing;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The golden fixture model (3 vision blocks, width 128, 16 patches) and reference computations.</summary>
internal static class PromptTestModels
{
    public static ClipModel Fixture() => ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));

    /// <summary>A random CLIP with a 4-block image tower (64 x 64 images, 16 patches, width 128, 4 heads).</summary>
    public static ClipModel FourBlocks(long seed) => ClipModel.Create(new ClipConfig
    {
        EmbedDim = 64,
        Vision = new ClipVisionConfig { ImageSize = 64, PatchSize = 16, Width = 128, Layers = 4, Heads = 4 },
        Text = new ClipTextConfig { ContextLength = 12, VocabSize = 600, Width = 32, Layers = 1, Heads = 2 },
    }, seed);

    public static Tensor Pixels(int n, long seed)
    {
        var g = new Generator((ulong)seed, CPU);
        return randn(new long[] { n, 3, 32, 32 }, generator: g);
    }

    /// <summary>
    /// A direct full pass with deep prompts, written independently of the injector: fresh prompts at every prompted
    /// block (VPT-deep) or, with <paramref name="carryOver"/>, prompts inserted once and their outputs carried on.
    /// </summary>
    public static (Tensor Features, Tensor ClassTokens) ReferencePass(ClipModel clip, Tensor prompts, int depth, Tensor pixels, bool carryOver = false)
    {
        var x = clip.Visual.Embed(pixels);
        long b = prompts.shape[1];
        var tokens = new List<Tensor>();
        for (int d = 1; d <= clip.Config.Vision.Layers; d++)
        {
            if (d > depth && (!carryOver || d == depth + 1))
            {
                var p = prompts[d - depth - 1].unsqueeze(0).expand(x.shape[0], -1, -1);
                var patchStart = d == depth + 1 ? 1 : 1 + b;
                x = cat(new[] { x.narrow(1, 0, 1), p, x.narrow(1, patchStart, x.shape[1] - patchStart) }, 1);
            }
            x = clip.Visual.Blocks[d - 1].forward(x);
            if (d > depth) tokens.Add(x.select(1, 0));
        }
        return (clip.Visual.Pool(x), stack(tokens, 1));
    }
}
