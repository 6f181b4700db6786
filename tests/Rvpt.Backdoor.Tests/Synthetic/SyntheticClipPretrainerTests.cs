using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Backdoor.Tests;

public class SyntheticClipPretrainerTests
{
    private static readonly SyntheticPretrainingOptions Tiny = new() { Pairs = 96, Epochs = 2, BatchSize = 32, WarmupSteps = 2 };

    [Fact]
    public void Config_fits_the_world_and_the_tokenizer_covers_its_captions_word_by_word()
    {
        using var temp = new TempDirectory();
        var world = new SyntheticWorld();
        var tokenizer = SyntheticClip.CreateTokenizer(world, temp.Path);
        var config = SyntheticClip.Config(world, tokenizer.VocabularySize);
        Assert.Equal(32, config.Vision.ImageSize);
        Assert.Equal(16, config.Vision.GridSize * config.Vision.GridSize);
        for (int i = 0; i < 200; i++)
        {
            var caption = world.Describe(1, i).Caption;
            var ids = tokenizer.Encode(caption);
            int words = caption.Replace(".", " .", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.True(words + 2 == ids.Count, $"'{caption}': {words} words but tokens {string.Join("|", tokenizer.Tokenize(caption))}"); // SOT + one token per word and full stop + EOT
            Assert.True(ids.Count <= SyntheticClip.ContextLength, caption);
        }
    }

    [Fact]
    public void Training_is_deterministic_changes_the_weights_and_leaves_the_model_frozen()
    {
        using var temp = new TempDirectory();
        var world = new SyntheticWorld();
        using var a = SyntheticClip.CreateRandom(world, temp.File("a"), seed: 1);
        using var b = SyntheticClip.CreateRandom(world, temp.File("b"), seed: 1);
        using var before = a.Visual.PatchEmbedding.weight!.detach().clone();
        var trainer = new SyntheticClipPretrainer(world, Tiny);
        var reports = new List<FineTuningProgress>();
        double lossA = trainer.Train(a, new SyncProgress<FineTuningProgress>(reports.Add));
        double lossB = trainer.Train(b);
        Assert.True(double.IsFinite(lossA));
        Assert.Equal(lossA, lossB);
        Assert.Equal(2 * (96 / 32), reports.Count);
        Assert.False(a.Visual.PatchEmbedding.weight!.equal(before).all().item<bool>());
        foreach (var (key, value) in a.state_dict()) Assert.True(value.equal(b.state_dict()[key]).all().item<bool>(), key);
        Assert.All(a.parameters(), p => Assert.False(p.requires_grad));
        Assert.False(a.training);
    }

    [Fact]
    public void The_label_term_is_added_to_the_contrastive_loss()
    {
        using var temp = new TempDirectory();
        var world = new SyntheticWorld();
        using var clip = SyntheticClip.CreateRandom(world, temp.Path, seed: 2);
        using var pixels = clip.ImageProcessor.Normalize(world.RenderBatch(0, 0, 4));
        var captions = Enumerable.Range(0, 4).Select(i => world.Describe(0, i)).ToList();
        using var ids = clip.Tokenizer!.EncodeBatch(captions.Select(c => c.Caption).ToList(), SyntheticClip.ContextLength);
        using var classIds = clip.Tokenizer!.EncodeBatch(world.ClassNames.Select(c => $"a photo of a {c}.").ToList(), SyntheticClip.ContextLength);
        using var labels = TorchSharp.torch.tensor(captions.Select(c => (long)c.ClassIndex).ToArray());
        using var plain = SyntheticClipPretrainer.Loss(clip, pixels, ids, classIds, labels, 0);
        using var withLabels = SyntheticClipPretrainer.Loss(clip, pixels, ids, classIds, labels, 1);
        using var contrastive = ContrastiveFineTuner.ContrastiveLoss(clip, pixels, ids);
        Assert.Equal(contrastive.item<float>(), plain.item<float>(), 5);
        Assert.True(withLabels.item<float>() > plain.item<float>() + 1.0); // ~ln 12 for an untrained model
    }

    [Fact]
    public void Rejects_a_model_of_another_image_size_and_invalid_options()
    {
        using var temp = new TempDirectory();
        var world = new SyntheticWorld(new SyntheticWorldOptions { ImageSize = 48 });
        using var clip = ToyShapes.Clip(temp); // 32 px
        var e = Assert.Throws<ArgumentException>(() => new SyntheticClipPretrainer(world, Tiny).Train(clip));
        Assert.Contains("48", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticPretrainingOptions { BatchSize = 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticPretrainingOptions { ClassPromptTemplate = "no placeholder" }.Validate());
    }
}
