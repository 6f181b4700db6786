using System.Collections;
using Rvpt.Testing;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// OpenAI's own downloads are TorchScript archives. tests/fixtures/checkpoints/openai-torchscript/tiny-vit.pt is one
/// made the same way (torch.jit.script + save, Debian's PyTorch 1.13): OpenAI's module structure and weight dtypes
/// (float16 conv/linear/attention/projections, float32 the rest) and the int64 input_resolution, context_length and
/// vocab_size tensors.
/// </summary>
public sealed class TorchScriptCheckpointTests
{
    private static string Archive => Fixtures.CheckpointFixture("openai-torchscript/tiny-vit.pt");

    private static ClipModel LoadAllowed() => new ClipModelBuilder().FromCheckpoint(Archive).AllowTorchScript().Build();

    [Fact]
    public void FromPretrainedRefusesAnArchiveAndNamesTheOptIn()
    {
        var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromPretrained(Archive));
        Assert.Contains("TorchScript", e.Message);
        Assert.Contains("AllowTorchScript()", e.Message);
        Assert.Contains("ClipCheckpoint.Save", e.Message);
        Assert.Contains("tiny-vit.pt", e.Message);
    }

    [Fact]
    public void WithTheOptInItsWeightsReproducePyTorch()
    {
        using var model = LoadAllowed();
        // No config travels with OpenAI's archives: OpenAI's build_model rules (heads = width / 64, QuickGELU) apply.
        Assert.Equal(ClipActivation.QuickGelu, model.Config.Activation);
        Assert.Equal(16, model.Config.Vision.ImageSize);
        using var golden = new NamedTensors(Fixtures.CheckpointFixture("openai-torchscript/golden.safetensors"));
        using var noGrad = no_grad();
        using var image = model.EncodeImage(golden["pixel_values"]);
        using var text = model.EncodeText(golden["input_ids"]);
        TensorAssert.Close(golden["image_embeds"], image, 1e-5, "image_embeds");
        TensorAssert.Close(golden["text_embeds"], text, 1e-5, "text_embeds");

        using var contents = ClipCheckpoint.Read(Archive, allowTorchScript: true);
        Assert.Equal(ScalarType.Float16, contents.StateDict["visual.conv1.weight"].dtype);
        Assert.Equal(ScalarType.Float32, contents.StateDict["visual.ln_pre.weight"].dtype);
        Assert.Equal(16L, contents.StateDict["input_resolution"].item<long>());
    }

    [Fact]
    public void SavedAsSafetensorsItLoadsWithoutTheOptIn()
    {
        using var temp = new TempDirectory();
        using var model = LoadAllowed();
        ClipCheckpoint.Save(model, temp.File("tiny-vit.safetensors"));
        using var again = ClipModel.FromPretrained(temp.File("tiny-vit.safetensors"));
        Assert.Equal(model.Config, again.Config);
        var a = model.state_dict();
        foreach (var (key, value) in again.state_dict()) TensorAssert.BitIdentical(a[key], value, key);
    }

    [SkippableFact]
    public void OpenAIsArchitectureScalarsMustAgreeWithTheConfig()
    {
        using var temp = new TempDirectory();
        var sd = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        var table = new Hashtable();
        foreach (var (k, v) in sd) table[k] = v;
        table["input_resolution"] = tensor(224L); // the fixture model takes 32 x 32 images
        table["context_length"] = tensor(77L);
        PyTorchPickler.PickleStateDict(temp.File("clip.pt"), table);
        foreach (var t in sd.Values) t.Dispose();

        var config = ClipConfig.FromHuggingFaceFile(Fixtures.ClipTinyFile("config.json"));
        var e = Assert.Throws<InvalidDataException>(() => new ClipModelBuilder().FromCheckpoint(temp.File("clip.pt")).WithConfig(config).Build());
        Assert.Contains("'input_resolution' is 224", e.Message);
        Assert.Contains("32", e.Message);
    }
}
