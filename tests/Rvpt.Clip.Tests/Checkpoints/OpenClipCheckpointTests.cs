using System.Collections;
using Rvpt.Testing;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// OpenCLIP folders (open_clip_config.json + open_clip_model.safetensors / open_clip_pytorch_model.bin), checked
/// against tests/fixtures/checkpoints/openclip-gelu, whose expected outputs come from PyTorch (make_checkpoints.py):
/// exact GELU, 4 text heads and a vision head width of 8, none of which the weights' shapes reveal.
/// </summary>
public sealed class OpenClipCheckpointTests
{
    private static string Folder => Fixtures.CheckpointFixture("openclip-gelu");

    private static void AssertMatchesReference(ClipModel model, string what)
    {
        using var golden = new NamedTensors(Path.Combine(Folder, "golden.safetensors"));
        using var noGrad = no_grad();
        using var image = model.EncodeImage(golden["pixel_values"]);
        using var text = model.EncodeText(golden["input_ids"]);
        using var output = model.forward(golden["pixel_values"], golden["input_ids"]);
        TensorAssert.Close(golden["image_embeds"], image, 1e-5, what + " image_embeds");
        TensorAssert.Close(golden["text_embeds"], text, 1e-5, what + " text_embeds");
        TensorAssert.Close(golden["logits_per_image"], output.LogitsPerImage, 1e-4, what + " logits");
    }

    [Fact]
    public void AnOpenClipFolderLoadsWithItsConfigAndReproducesPyTorch()
    {
        using var model = ClipModel.FromPretrained(Folder);
        Assert.Equal(ClipActivation.Gelu, model.Config.Activation);
        Assert.Equal(4, model.Config.Vision.Heads); // width 32 / head_width 8
        Assert.Equal(4, model.Config.Text.Heads);
        AssertMatchesReference(model, "open_clip_model.safetensors");
        // preprocess_cfg's mean and std reach the image processor.
        Assert.Equal(new[] { 0.485f, 0.456f, 0.406f }, model.ImageProcessor.Options.Mean);
        Assert.Equal(new[] { 0.229f, 0.224f, 0.225f }, model.ImageProcessor.Options.Std);
    }

    [Fact]
    public void AnOpenClipPytorchBinLoadsTheSame()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(Folder, "open_clip_config.json"), temp.File("open_clip_config.json"));
        var weights = SafetensorsFile.Load(Path.Combine(Folder, "open_clip_model.safetensors"));
        var table = new Hashtable();
        foreach (var (k, v) in weights) table[k] = v;
        PyTorchPickler.PickleStateDict(temp.File("open_clip_pytorch_model.bin"), table);
        foreach (var t in weights.Values) t.Dispose();

        using var model = ClipModel.FromPretrained(temp.Path);
        Assert.EndsWith("open_clip_pytorch_model.bin", model.Source);
        AssertMatchesReference(model, "open_clip_pytorch_model.bin");
    }

    [Fact]
    public void WithoutItsConfigTheGuessIsAWarningThatReachesTheCaller()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(Folder, "open_clip_model.safetensors"), temp.File("open_clip_model.safetensors"));

        var logger = new RecordingLogger();
        using var guessed = ClipModel.FromPretrained(temp.Path, logger: logger);
        Assert.Equal(ClipActivation.QuickGelu, guessed.Config.Activation);
        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("inferred from tensor shapes", warning);
        Assert.Contains("QuickGelu", warning);
        Assert.Contains("WithInferredActivation", warning);

        var chosen = new RecordingLogger();
        using var gelu = new ClipModelBuilder().FromCheckpoint(temp.Path).WithInferredActivation(ClipActivation.Gelu).WithLogger(chosen).Build();
        Assert.Equal(ClipActivation.Gelu, gelu.Config.Activation);
        Assert.Contains("as chosen with WithInferredActivation", Assert.Single(chosen.Warnings));
        Assert.Equal(1, gelu.Config.Text.Heads); // still a guess: heads are not in the weights

        // The explicit config, as in open_clip_config.json, gives PyTorch's outputs.
        using var right = new ClipModelBuilder().FromCheckpoint(temp.Path)
            .WithConfig(ClipConfig.FromOpenClipFile(Path.Combine(Folder, "open_clip_config.json"))).Build();
        AssertMatchesReference(right, "WithConfig");
    }

    [Fact]
    public void TheOpenClipConfigFieldsAreReadAsOpenClipDefinesThem()
    {
        const string basic = """
            {"model_cfg": {"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
             "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}}
            """;
        var b32 = ClipConfig.FromOpenClipJson(basic);
        Assert.Equal(ClipConfig.ViTB32 with { Activation = ClipActivation.Gelu }, b32);

        var quick = ClipConfig.FromOpenClipJson(basic.Replace("\"embed_dim\": 512,", "\"embed_dim\": 512, \"quick_gelu\": true,"));
        Assert.Equal(ClipConfig.ViTB32, quick);

        // ViT-H-14's head_width 80 and bigG's mlp_ratio (OpenCLIP: mlp_width = int(width * mlp_ratio)); bare model config.
        var h = ClipConfig.FromOpenClipJson("""
            {"embed_dim": 1024, "vision_cfg": {"image_size": 224, "layers": 32, "width": 1280, "head_width": 80, "mlp_ratio": 4.9231, "patch_size": 14,
             "norm_kwargs": {"eps": 1e-6}},
             "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 1024, "heads": 16, "layers": 24, "norm_kwargs": {"eps": 1e-6}}}
            """);
        Assert.Equal(16, h.Vision.Heads);
        Assert.Equal((int)(1280 * 4.9231), h.Vision.MlpWidth);
        Assert.Equal(1e-6, h.LayerNormEps);
    }

    [Theory]
    [InlineData("\"custom_text\": true,", "custom_text")]
    [InlineData("\"init_logit_bias\": -10,", "init_logit_bias")]
    [InlineData("\"some_new_option\": 1,", "some_new_option")]
    public void AConfigForAnotherNetworkIsRefusedNamingTheOption(string extra, string named)
    {
        var json = "{\"model_cfg\": {" + extra + """
             "embed_dim": 16, "vision_cfg": {"image_size": 16, "layers": 2, "width": 32, "patch_size": 4},
             "text_cfg": {"context_length": 16, "vocab_size": 64, "width": 32, "heads": 4, "layers": 2}}}
            """;
        var e = Assert.Throws<InvalidDataException>(() => ClipConfig.FromOpenClipJson(json, "cfg.json"));
        Assert.Contains(named, e.Message);
        Assert.Contains("cfg.json", e.Message);

        var resnet = Assert.Throws<InvalidDataException>(() => ClipConfig.FromOpenClipJson(
            """{"embed_dim": 1024, "vision_cfg": {"layers": [3, 4, 6, 3], "width": 64}, "text_cfg": {}}"""));
        Assert.Contains("ModifiedResNet", resnet.Message);
        var layerScale = Assert.Throws<InvalidDataException>(() => ClipConfig.FromOpenClipJson(
            """{"embed_dim": 16, "vision_cfg": {"ls_init_value": 0.1}, "text_cfg": {}}"""));
        Assert.Contains("ls_init_value", layerScale.Message);
    }
}
