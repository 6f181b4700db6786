using System.Text.Json.Nodes;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// Damaged or foreign prompt checkpoints: each is refused with an <see cref="InvalidDataException"/> naming the file
/// and what was expected (the model mismatches are in <see cref="PromptCheckpointTests.AnotherModelIsRefusedClearly"/>).
/// </summary>
public sealed class PromptCheckpointBadInputTests : IDisposable
{
    private static readonly ClipConfig Config = new()
    {
        EmbedDim = 16,
        Vision = new ClipVisionConfig { ImageSize = 16, PatchSize = 8, Width = 32, Layers = 3, Heads = 2 },
        Text = new ClipTextConfig { ContextLength = 8, VocabSize = 64, Width = 16, Layers = 1, Heads = 2 },
    };

    private readonly TempDirectory temp = new();
    private readonly ClipModel clip = ClipModel.Create(Config, seed: 4);
    private readonly string valid;

    public PromptCheckpointBadInputTests()
    {
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(3).Seed(2).Build();
        valid = temp.File("valid.safetensors");
        prompts.Save(valid);
    }

    /// <summary>Deletes the files and the model.</summary>
    public void Dispose()
    {
        clip.Dispose();
        temp.Dispose();
    }

    /// <summary>Rewrites the valid checkpoint with edited tensors and adapter JSON.</summary>
    private string Variant(string name, Action<Dictionary<string, Tensor>>? tensors = null, Action<JsonObject>? adapter = null)
    {
        var loaded = SafetensorsFile.Load(valid, null, out var metadata);
        var meta = metadata.ToDictionary();
        tensors?.Invoke(loaded);
        if (adapter is not null)
        {
            var json = JsonNode.Parse(meta["rvpt_adapter"])!.AsObject();
            adapter(json);
            meta["rvpt_adapter"] = json.ToJsonString();
        }
        var path = temp.File(name);
        SafetensorsFile.Save(path, loaded, meta);
        foreach (var t in loaded.Values) t.Dispose();
        return path;
    }

    private InvalidDataException Refused(string path, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => DeepPromptInjector.Load(path, clip));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        return e;
    }

    [Fact]
    public void TheValidCheckpointLoads()
    {
        using var loaded = DeepPromptInjector.Load(valid, clip);
        Assert.Equal(new long[] { 2, 3, 32 }, loaded.Prompts.shape);
    }

    [Fact]
    public void MissingExtraAndMisshapenTensorsAreRefused()
    {
        Refused(Variant("missing.safetensors", t => { t["prompts"].Dispose(); t.Remove("prompts"); t["other"] = zeros(1); }), "no 'prompts' tensor (found: other)");
        Refused(Variant("extra.safetensors", t => t["momentum_buffer"] = zeros(2, 3, 32)), "unexpected tensors besides 'prompts': momentum_buffer");
        Refused(Variant("shape.safetensors", t => t["prompts"] = zeros(2, 4, 32)), "'prompts' has shape [2, 4, 32], expected [2, 3, 32]");
        Refused(Variant("dtype.safetensors", t => t["prompts"] = zeros(new long[] { 2, 3, 32 }, dtype: ScalarType.Int64)), "dtype Int64, expected a floating-point type");
    }

    [Fact]
    public void NonFinitePromptsAreRefused()
    {
        Refused(Variant("nan.safetensors", t =>
        {
            using (no_grad())
            {
                t["prompts"][0, 0, 0] = tensor(float.NaN);
                t["prompts"][1, 2, 3] = tensor(float.PositiveInfinity);
            }
        }), "2 NaN or infinite values");
    }

    [Fact]
    public void DamagedAdapterMetadataNamesTheKey()
    {
        Refused(Variant("no-tokens.safetensors", adapter: a => a.Remove("tokens")), "no 'tokens'");
        Refused(Variant("text-tokens.safetensors", adapter: a => a["tokens"] = "three"), "malformed adapter metadata");
        Refused(Variant("format.safetensors", adapter: a => a["format"] = "something-else"), "expected 'rvpt-deep-visual-prompts'");
        Refused(Variant("blocks.safetensors", adapter: a => a["prompted_blocks"] = new JsonArray(2, 7)), "Blocks 7 are outside 1..3");
        Refused(Variant("dropout.safetensors", adapter: a => a["dropout"] = 1.5), "Dropout must be in [0, 1)");
    }

    [Fact]
    public void ATruncatedOrForeignFileIsRefused()
    {
        var bytes = File.ReadAllBytes(valid);
        var cut = temp.Write("cut.safetensors", bytes[..(bytes.Length - 100)]);
        Refused(cut, "truncated");
        var clipWeights = temp.File("clip.safetensors");
        ClipCheckpoint.Save(clip, clipWeights);
        Refused(clipWeights, "not an Rvpt prompt checkpoint");
        Assert.Throws<FileNotFoundException>(() => DeepPromptInjector.Load(temp.File("absent.safetensors"), clip));
    }
}
