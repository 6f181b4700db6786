using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>Prompt-only checkpoints round-trip and refuse other models.</summary>
public sealed class PromptCheckpointTests
{
    [SkippableFact]
    public void RoundTripRestoresThePromptsExactly()
    {
        using var temp = new TempDirectory();
        using var clip = PromptTestModels.Fixture();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(50).Seed(5).Build();
        var path = temp.File("defended.prompts.safetensors");
        prompts.Save(path);
        Assert.True(File.Exists(path + ".json"));
        // prompts + a header: the adapter settings and the weights signature (per base-model weight its name, shape and three 16-digit hashes)
        Assert.InRange(new FileInfo(path).Length, 2 * 50 * 128 * 4, 2 * 50 * 128 * 4 + 8192 + SignatureBytes(clip));

        using var loaded = DeepPromptInjector.Load(path, clip);
        Assert.Equal(prompts.PromptedBlocks, loaded.PromptedBlocks);
        TensorAssert.BitIdentical(prompts.Prompts, loaded.Prompts, "prompts");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = PromptTestModels.Pixels(2, 1);
        TensorAssert.Close(prompts.EncodeImage(pixels), loaded.EncodeImage(pixels), 0, "prompted features");
    }

    [Fact]
    public void ViTB32DefaultPromptsSaveToAbout1Point4MB()
    {
        using var temp = new TempDirectory();
        using var clip = new ClipModel(ClipConfig.ViTB32); // placeholder weights; nothing downloaded
        using var prompts = DeepPromptInjector.For(clip).Build();
        var path = temp.File("vit-b-32.prompts.safetensors");
        prompts.Save(path);
        Assert.InRange(new FileInfo(path).Length, 345_600 * 4, 345_600 * 4 + 8192 + SignatureBytes(clip)); // 1.38 MB of prompts + header
        using var loaded = DeepPromptInjector.Load(path, clip);
        Assert.Equal(Enumerable.Range(4, 9), loaded.PromptedBlocks);
    }

    [SkippableFact]
    public void AnotherModelIsRefusedClearly()
    {
        using var temp = new TempDirectory();
        using var clip = PromptTestModels.Fixture();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Build();
        var path = temp.File("p.safetensors");
        prompts.Save(path);

        using var sameShapeOtherWeights = ClipModel.Create(clip.Config, seed: 1);
        var weights = Assert.Throws<InvalidDataException>(() => DeepPromptInjector.Load(path, sameShapeOtherWeights));
        Assert.Contains("base model weights", weights.Message);
        Assert.Contains("hold other values", weights.Message);
        using (DeepPromptInjector.Load(path, sameShapeOtherWeights, verifyBaseWeights: false)) { }

        using var wider = ClipModel.Create(clip.Config with { Vision = clip.Config.Vision with { Width = 64, Heads = 1 } }, seed: 1);
        var width = Assert.Throws<InvalidDataException>(() => DeepPromptInjector.Load(path, wider));
        Assert.Contains("vision width: checkpoint has 128, model has 64", width.Message);

        var notPrompts = Fixtures.ClipTinyFile("tiny_clip_openai.safetensors");
        Assert.Contains("not an Rvpt prompt checkpoint", Assert.Throws<InvalidDataException>(() => DeepPromptInjector.Load(notPrompts, clip)).Message);
    }

    /// <summary>Most bytes the weights signature takes: per weight its name and at most 100 bytes (shape, three hashes, JSON punctuation).</summary>
    private static long SignatureBytes(ClipModel clip) => clip.state_dict().Keys.Sum(k => k.Length + 100L);
}
