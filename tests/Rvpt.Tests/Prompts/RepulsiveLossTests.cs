using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The RVPT loss against hand computations.</summary>
public sealed class RepulsiveLossTests
{
    [Fact]
    public void RepellingTermMatchesAHandComputation()
    {
        using var scope = NewDisposeScope();
        // Two images, two blocks, width 2. Cosines: image 0 -> (1, 0), image 1 -> (-1, 0.6).
        var prompted = tensor(new float[] { 1, 0, 0, 2, -3, 0, 3, 4 }).view(2, 2, 2);
        var frozen = tensor(new float[] { 2, 0, 1, 0, 1, 0, 1, 0 }).view(2, 2, 2);
        Assert.Equal(((1 + 0) / 2.0 + (-1 + 0.6) / 2.0) / 2, RepulsiveLoss_Repelling(prompted, frozen, null), 5);
        // Margin m = 0.1: per image max(0.5, 0.1) and max(-0.2, 0.1).
        Assert.Equal((0.5 + 0.1) / 2, RepulsiveLoss_Repelling(prompted, frozen, 0.1), 5);
        // m = 1 makes the term constant: plain VPT.
        Assert.Equal(1.0, RepulsiveLoss_Repelling(prompted, frozen, 1.0), 5);
    }

    [Fact]
    public void AblationsReadTheLastBlockOrNormalisedTokens()
    {
        using var scope = NewDisposeScope();
        // The same tokens as above. Last block only: image 0 cos((0, 2), (1, 0)) = 0, image 1 cos((3, 4), (1, 0)) = 0.6.
        var prompted = tensor(new float[] { 1, 0, 0, 2, -3, 0, 3, 4 }).view(2, 2, 2);
        var frozen = tensor(new float[] { 2, 0, 1, 0, 1, 0, 1, 0 }).view(2, 2, 2);
        Assert.Equal(0.3, Ablation(prompted, frozen, RepelledBlocks.Last, RepelledFeature.RawClassToken), 5);
        // Normalised across width 2, every token becomes +-(1, -1): image 0 cosines (1, -1), image 1 (-1, -1).
        Assert.Equal((0.0 + -1.0) / 2, Ablation(prompted, frozen, RepelledBlocks.All, RepelledFeature.NormalizedClassToken), 4);
        Assert.Equal(-1.0, Ablation(prompted, frozen, RepelledBlocks.Last, RepelledFeature.NormalizedClassToken), 4);
        // An offset shared by every channel counts in the raw cosine (74 / sqrt(14 * 434) = 0.9494), not once normalised.
        var a = tensor(new float[] { 11, 12, 13 }).view(1, 1, 3);
        var b = tensor(new float[] { 1, 2, 3 }).view(1, 1, 3);
        Assert.Equal(74 / Math.Sqrt(14.0 * 434.0), Ablation(a, b, RepelledBlocks.All, RepelledFeature.RawClassToken), 5);
        Assert.Equal(1.0, Ablation(a, b, RepelledBlocks.All, RepelledFeature.NormalizedClassToken), 4);

        var loss = new RepulsiveLoss(2).WithMargin(0.5).OnBlocks(RepelledBlocks.Last).OnFeature(RepelledFeature.NormalizedClassToken);
        Assert.Equal((2.0, 0.5, RepelledBlocks.Last, RepelledFeature.NormalizedClassToken, false),
            (loss.Alpha, loss.Margin!.Value, loss.Blocks, loss.Feature, loss.IsPaperForm));
        Assert.True(new RepulsiveLoss(3).WithMargin(0.2).IsPaperForm);
        Assert.Throws<ArgumentOutOfRangeException>(() => loss.OnBlocks((RepelledBlocks)7));
    }

    private static double Ablation(Tensor a, Tensor b, RepelledBlocks blocks, RepelledFeature feature) =>
        RepulsiveLoss.Repelling(a, b, null, blocks, feature).item<float>();

    private static double RepulsiveLoss_Repelling(Tensor a, Tensor b, double? m) => RepulsiveLoss.Repelling(a, b, m).item<float>();

    [Fact]
    public void TotalIsCrossEntropyPlusAlphaTimesRepelling()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(2, CPU);
        var features = randn(new long[] { 3, 4 }, generator: g);
        var tokens = randn(new long[] { 3, 2, 6 }, generator: g, requires_grad: true);
        var frozen = randn(new long[] { 3, 2, 6 }, generator: g);
        var text = Rvpt.Clip.ClipModel.Normalize(randn(new long[] { 5, 4 }, generator: g));
        var labels = tensor(new long[] { 4, 0, 2 });
        var scale = tensor(MathF.Log(100f));
        var output = new PromptedOutput(features, tokens);

        var plain = new RepulsiveLoss(0).Compute(output, frozen, text, labels, scale);
        var logits = 100f * Rvpt.Clip.ClipModel.Normalize(features).matmul(text.t());
        var ce = nn.functional.cross_entropy(logits, labels).item<float>();
        Assert.Equal(ce, plain.CrossEntropy.item<float>(), 4);
        Assert.Equal(plain.CrossEntropy.item<float>(), plain.Total.item<float>()); // alpha = 0 reduces to CE

        var rvpt = new RepulsiveLoss(2).Compute(output, frozen, text, labels, scale);
        var fr = nn.functional.cosine_similarity(tokens, frozen, 2).mean().item<float>();
        Assert.Equal(fr, rvpt.Repelling.item<float>(), 5);
        Assert.Equal(ce + 2 * fr, rvpt.Total.item<float>(), 4);

        rvpt.Total.backward();
        Assert.NotNull(tokens.grad);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepulsiveLoss(alpha: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepulsiveLoss().WithMargin(2));
        Assert.Throws<ArgumentException>(() => new RepulsiveLoss().Compute(output, frozen.narrow(1, 0, 1), text, labels, scale));
    }
}
