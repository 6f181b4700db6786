using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Rvpt.Clip;
using Rvpt.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// Prompts trained on one dtype deploy on the same model held in another; a different model is still refused, naming
/// the weights that differ; version-1 files keep loading where they did; the classes and templates travel along.
/// </summary>
public sealed class PromptCheckpointPortabilityTests
{
    private static ClipModel Fixture(ScalarType dtype) => ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), dtype: dtype);

    private static string SavePrompts(TempDirectory temp, ClipModel clip)
    {
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(5).Build();
        var path = temp.File("p.safetensors");
        prompts.Save(path);
        return path;
    }

    [SkippableTheory]
    [InlineData(ScalarType.Float32, ScalarType.Float16)]
    [InlineData(ScalarType.Float32, ScalarType.BFloat16)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    [InlineData(ScalarType.Float16, ScalarType.Float32)]
    public void PromptsLoadOnTheSameModelInAnotherDType(ScalarType trainedIn, ScalarType deployedIn)
    {
        using var temp = new TempDirectory();
        using var trained = Fixture(trainedIn);
        var path = SavePrompts(temp, trained);
        using var deployed = Fixture(deployedIn);
        using var loaded = DeepPromptInjector.Load(path, deployed);
        Assert.Equal(new[] { 2, 3 }, loaded.PromptedBlocks);
    }

    [SkippableTheory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void AnotherModelIsRefusedInEveryDTypeNamingTheWeightsThatDiffer(ScalarType deployedIn)
    {
        using var temp = new TempDirectory();
        using var clip = Fixture(ScalarType.Float32);
        var path = SavePrompts(temp, clip);

        using var changed = clip.Clone(); // e.g. a fine-tune that touched one matrix
        using (no_grad()) changed.state_dict()["visual.transformer.resblocks.2.mlp.c_fc.weight"].mul_(1.05);
        changed.to(CPU, deployedIn);
        var e = Assert.Throws<InvalidDataException>(() => DeepPromptInjector.Load(path, changed));
        Assert.Contains("trained for a different CLIP model", e.Message);
        Assert.Contains("1 of 74 weights hold other values", e.Message);
        Assert.Contains("visual.transformer.resblocks.2.mlp.c_fc.weight", e.Message);
        using (DeepPromptInjector.Load(path, changed, verifyBaseWeights: false)) { }
    }

    [SkippableFact]
    public void VersionOneFilesStillLoadInTheirOwnDTypeAndExplainOtherwise()
    {
        using var temp = new TempDirectory();
        using var clip = Fixture(ScalarType.Float32);
        var v2 = SavePrompts(temp, clip);
        var tensors = SafetensorsFile.Load(v2, null, out var metadata);
        var adapter = (JsonObject)JsonNode.Parse(metadata["rvpt_adapter"])!;
        adapter["version"] = 1;
        foreach (var key in new[] { "base_weights", "base_dtype", "class_names", "templates" }) adapter.Remove(key);
        adapter["base_weights_sha256"] = VersionOneFingerprint(clip);
        var v1 = temp.File("v1.safetensors");
        SafetensorsFile.Save(v1, tensors, new Dictionary<string, string> { ["format"] = "pt", ["rvpt_adapter"] = adapter.ToJsonString() });
        foreach (var t in tensors.Values) t.Dispose();

        using (var loaded = DeepPromptInjector.Load(v1, clip)) Assert.Null(loaded.ClassNames);
        using var bf16 = Fixture(ScalarType.BFloat16);
        var e = Assert.Throws<InvalidDataException>(() => DeepPromptInjector.Load(v1, bf16));
        Assert.Contains("version 1", e.Message);
        Assert.Contains("save the prompts again", e.Message);
    }

    [SkippableFact]
    public void TheClassesAndTemplatesOfTrainingAreSavedAndRestored()
    {
        using var temp = new TempDirectory();
        using var clip = Fixture(ScalarType.Float32);
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(5).Build();
        var classes = new[] { "cat", "dog" };
        var (images, labels) = DataTestImages.RandomTensors(4, 2, 32, 32);
        using var data = new TensorDataset(images, labels, classes);
        FewShotTrainer.For(clip, prompts).WithClasses(classes, ["a photo of a {}.", "a drawing of a {}."]).Epochs(1).Warmup(0, 1e-5).BatchSize(4)
            .Augment(false).Build().Fit(data);
        Assert.Equal(classes, prompts.ClassNames);
        prompts.Save(temp.File("p.safetensors"));

        var sidecar = JsonNode.Parse(File.ReadAllText(temp.File("p.safetensors.json")))!;
        Assert.Equal(classes, sidecar["class_names"]!.AsArray().Select(n => (string)n!));
        using var loaded = DeepPromptInjector.Load(temp.File("p.safetensors"), clip);
        Assert.Equal(classes, loaded.ClassNames);
        Assert.Equal(new[] { "a photo of a {}.", "a drawing of a {}." }, loaded.Templates);
    }

    /// <summary>The version-1 fingerprint, written here from its definition: SHA-256 over name|dtype|shape| and bytes, keys in ordinal order.</summary>
    private static string VersionOneFingerprint(ClipModel model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in model.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{name}|{tensor.dtype}|{string.Join(",", tensor.shape)}|"));
            using var cpu = tensor.detach().cpu().contiguous();
            sha.AppendData(cpu.bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
