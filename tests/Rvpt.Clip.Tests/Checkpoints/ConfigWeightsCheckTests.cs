using System.Text.Json.Nodes;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// A config that disagrees with its weights is refused before any model tensor is allocated, naming the first
/// disagreeing key, its shape in the weights and the config field, in the vocabulary of the config's own format.
/// </summary>
public sealed class ConfigWeightsCheckTests
{
    /// <summary>
    /// The case measured in the issue: a Hugging Face folder whose config.json claims a 65,536-wide, 64-block vision
    /// tower beside the tiny weights. Building that model would ask libtorch for about 51 GB.
    /// </summary>
    [SkippableFact]
    public void AHuggingFaceConfigClaimingAHugeTowerIsRefusedBeforeAllocating()
    {
        using var temp = new TempDirectory();
        // As transformers saves it: model.safetensors with only {"format": "pt"} metadata, the config in config.json.
        var weights = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_hf.safetensors"));
        SafetensorsFile.Save(temp.File("model.safetensors"), weights, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var t in weights.Values) t.Dispose();
        var config = JsonNode.Parse(File.ReadAllText(Fixtures.ClipTinyFile("config.json")))!;
        config["vision_config"]!["hidden_size"] = 65536;
        config["vision_config"]!["intermediate_size"] = 4 * 65536;
        config["vision_config"]!["num_hidden_layers"] = 64;
        File.WriteAllText(temp.File("config.json"), config.ToJsonString());
        Assert.True(ClipConfig.FromHuggingFaceFile(temp.File("config.json")).ParameterCount > 3_000_000_000L); // > 12 GB of float32

        var e = Assert.Throws<ClipCheckpointMismatchException>(() => ClipModel.FromPretrained(temp.Path));
        Assert.Contains("no model was allocated", e.Message);
        Assert.Contains("'visual.class_embedding' is [128] in the weights", e.Message);
        Assert.Contains("vision_config.hidden_size = 65536", e.Message);
        Assert.Contains("config.json", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void AnOpenClipConfigThatDisagreesNamesItsField()
    {
        using var temp = new TempDirectory();
        var folder = Fixtures.CheckpointFixture("openclip-gelu");
        File.Copy(Path.Combine(folder, "open_clip_model.safetensors"), temp.File("open_clip_model.safetensors"));
        File.WriteAllText(temp.File("open_clip_config.json"),
            File.ReadAllText(Path.Combine(folder, "open_clip_config.json")).Replace("\"layers\": 2", "\"layers\": 24"));
        var e = Assert.Throws<ClipCheckpointMismatchException>(() => ClipModel.FromPretrained(temp.Path));
        Assert.Contains("'visual.transformer.resblocks.2.attn.in_proj_weight' is not in the weights", e.Message);
        Assert.Contains("vision_cfg.layers = 24", e.Message);
        Assert.Contains("open_clip_config.json", e.Message);
    }

    [SkippableFact]
    public void AMetadataConfigThatDisagreesNamesItsField()
    {
        using var temp = new TempDirectory();
        var sd = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), null, out var metadata);
        var config = JsonNode.Parse(metadata["config"])!;
        config["embed_dim"] = 4096;
        SafetensorsFile.Save(temp.File("clip.safetensors"), sd, new Dictionary<string, string> { ["config"] = config.ToJsonString() });
        foreach (var t in sd.Values) t.Dispose();
        var e = Assert.Throws<ClipCheckpointMismatchException>(() => ClipModel.FromPretrained(temp.File("clip.safetensors")));
        Assert.Contains("'visual.proj' is [128, 32] in the weights, but vision_width = 128 and embed_dim = 4096 make it [128, 4096]", e.Message);
        Assert.Equal(new[] { "text_projection expected [64, 4096], found [64, 32]", "visual.proj expected [128, 4096], found [128, 32]" },
            e.ShapeMismatches.Select(s => s.ToString()).Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public void AConfigGivenInCodeIsCheckedToo()
    {
        var e = Assert.Throws<ClipCheckpointMismatchException>(() => new ClipModelBuilder()
            .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
            .WithConfig(ClipConfig.ViTB32).Build());
        Assert.Contains("WithConfig", e.Message);
        Assert.Contains("Vision.Width = 768", e.Message);
    }

    [Fact]
    public void TheCheckExpectsExactlyTheModelsWeights()
    {
        foreach (var config in new[] { TinyConfigs.Clip, TinyConfigs.Clip with { Vision = TinyConfigs.Clip.Vision with { MlpWidth = 96 } } })
        {
            using var model = new ClipModel(config);
            var actual = model.state_dict().Select(p => (p.Key, Shape: string.Join(",", p.Value.shape))).ToList();
            var expected = ClipConfigWeightsCheck.ExpectedWeights(config).Select(w => (w.Key, Shape: string.Join(",", w.Shape))).ToList();
            Assert.Equal(actual.OrderBy(p => p.Key, StringComparer.Ordinal), expected.OrderBy(p => p.Key, StringComparer.Ordinal));
        }
    }
}
