using Rvpt.Testing;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>Presets, config readers and the parameter count.</summary>
public sealed class ClipConfigTests
{
    [Fact]
    public void PresetsHaveOpenAIsArchitectures()
    {
        Assert.Equal(151_277_313, ClipConfig.ViTB32.ParameterCount); // OpenAI ViT-B/32
        Assert.Equal(149_620_737, ClipConfig.ViTB16.ParameterCount); // OpenAI ViT-B/16
        Assert.Equal(427_616_513, ClipConfig.ViTL14.ParameterCount); // OpenAI ViT-L/14
        Assert.Equal(50, ClipConfig.ViTB32.Vision.TokenCount);
        Assert.Same(ClipConfig.ViTL14, ClipConfig.FromPresetName("vit-l/14"));
        Assert.Throws<ArgumentException>(() => ClipConfig.FromPresetName("RN50"));
    }

    [Fact]
    public void ModelParameterCountMatchesTheConfig()
    {
        using var model = new ClipModel(TinyConfigs.Clip);
        Assert.Equal(TinyConfigs.Clip.ParameterCount, model.parameters().Sum(p => p.numel()));
    }

    [SkippableFact]
    public void HuggingFaceAndMetadataConfigsOfTheFixtureAgree()
    {
        var hf = ClipConfig.FromHuggingFaceFile(Fixtures.ClipTinyFile("config.json"));
        var header = SafetensorsFile.ReadHeader(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        var meta = ClipConfig.FromMetadataJson(header.Metadata["config"]);
        Assert.Equal(hf, meta);
        Assert.Equal(3_895_489, hf.ParameterCount);
        Assert.Equal(2, hf.Text.Heads);
        Assert.Equal(ClipActivation.QuickGelu, hf.Activation);
        Assert.Equal(hf, ClipConfig.FromMetadataJson(hf.ToMetadataJson()));
        Assert.Equal(hf, ClipConfig.FromHuggingFaceJson(hf.ToHuggingFaceJson()));
    }

    [Fact]
    public void InvalidConfigsAreRejectedWithTheField()
    {
        var e = Assert.Throws<InvalidDataException>(() => ClipConfig.FromHuggingFaceJson("{\"vision_config\": {\"image_size\": 100, \"patch_size\": 32}}"));
        Assert.Contains("not a multiple of PatchSize", e.Message);
        var act = Assert.Throws<InvalidDataException>(() => ClipConfig.FromHuggingFaceJson("{\"text_config\": {\"hidden_act\": \"relu\"}, \"vision_config\": {\"hidden_act\": \"relu\"}}"));
        Assert.Contains("relu", act.Message);
        Assert.Throws<InvalidDataException>(() => ClipConfig.FromMetadataJson("{\"embed_dim\": 32}"));
        Assert.Throws<InvalidDataException>(() => ClipConfig.FromHuggingFaceJson("not json"));
    }
}
