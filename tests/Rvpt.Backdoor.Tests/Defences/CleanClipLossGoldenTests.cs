using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>CleanCLIP's loss against golden values from its src/train.py get_loss (Golden/make_golden.py).</summary>
public sealed class CleanClipLossGoldenTests
{
    [Fact]
    public void Loss_MatchesCleanClipsCode_InModalityTermsAveragedOneDirectionEach()
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("cleanclip_loss.safetensors");
        var scale = golden["logit_scale"];
        var image = CleanClip.InModalityLoss(golden["image"], golden["image_aug"], scale);
        var text = CleanClip.InModalityLoss(golden["text"], golden["text_aug"], scale);
        var inModality = golden["inmodal"].item<float>();
        Assert.Equal(inModality, ((image + text) / 2).item<float>(), 5);

        // The whole step loss with lambda1 = 2, lambda2 = 3: 2 * crossmodal + 3 * inmodal, as clip_weight / inmodal_weight.
        var multimodal = golden["crossmodal"];
        var options = new CleanClipOptions { MultimodalWeight = 2, InModalityWeight = 3 };
        var total = CleanClip.Combine(multimodal, image, text, options).item<float>();
        Assert.Equal(2 * multimodal.item<float>() + 3 * inModality, total, 4);
        // The earlier sum of the two terms would be 3 * (image + text), larger by 3 * inmodal.
        Assert.True(Math.Abs(total - (2 * multimodal.item<float>() + 3 * 2 * inModality)) > 1, "the in-modality terms are averaged, not summed");
    }

    [Fact]
    public void Defaults_AreThePapersCleanClipRun()
    {
        var options = new CleanClipOptions();
        Assert.Equal((5e-6, 64, 10, 50), (options.FineTuning.LearningRate, options.FineTuning.BatchSize, options.FineTuning.Epochs, options.FineTuning.WarmupSteps));
        Assert.Equal(3e-6, CleanClipOptions.PaperForWaNetAndIssba.FineTuning.LearningRate);
        Assert.False(options.SymmetricInModality);
    }
}
