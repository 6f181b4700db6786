using System.IO.Compression;
using System.Text;
using Rvpt.Testing;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>Checkpoint detection, strict validation, error messages and save/load round trips.</summary>
public sealed class ClipCheckpointTests
{
    private static Dictionary<string, Tensor> OpenAIFixture(out IReadOnlyDictionary<string, string> metadata) =>
        SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), null, out metadata);

    private static void Dispose(Dictionary<string, Tensor> d)
    {
        foreach (var t in d.Values) t.Dispose();
    }

    private static ClipCheckpointMismatchException LoadFails(Action<Dictionary<string, Tensor>> corrupt)
    {
        using var temp = new TempDirectory();
        var sd = OpenAIFixture(out var meta);
        corrupt(sd);
        SafetensorsFile.Save(temp.File("bad.safetensors"), sd, meta);
        Dispose(sd);
        return Assert.Throws<ClipCheckpointMismatchException>(() => ClipModel.FromPretrained(temp.File("bad.safetensors")));
    }

    [SkippableFact]
    public void MissingExtraAndMisshapenKeysAreReportedTogether()
    {
        var e = LoadFails(sd =>
        {
            sd.Remove("visual.ln_post.bias");
            sd["visual.extra_head.weight"] = zeros(3);
            sd["visual.proj"] = zeros(128, 31);
        });
        Assert.Contains("missing keys (1): visual.ln_post.bias", e.Message);
        Assert.Contains("unexpected keys (1): visual.extra_head.weight", e.Message);
        Assert.Contains("visual.proj expected [128, 32], found [128, 31]", e.Message);
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Equal(new[] { "visual.ln_post.bias" }, e.MissingKeys);
        Assert.Equal(new[] { "visual.extra_head.weight" }, e.UnexpectedKeys);
        Assert.Equal("visual.proj expected [128, 32], found [128, 31]", Assert.Single(e.ShapeMismatches).ToString());
        Assert.EndsWith("bad.safetensors", e.Checkpoint, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void AMissingKeyAloneFails()
    {
        var e = LoadFails(sd => sd.Remove("transformer.resblocks.1.mlp.c_fc.weight"));
        Assert.Contains("transformer.resblocks.1.mlp.c_fc.weight", e.Message);
        Assert.Contains("nothing was loaded", e.Message);
    }

    [SkippableFact]
    public void TruncatedFileFailsNamingTheTensor()
    {
        using var temp = new TempDirectory();
        var bytes = File.ReadAllBytes(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        File.WriteAllBytes(temp.File("cut.safetensors"), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromPretrained(temp.File("cut.safetensors")));
        Assert.Contains("cut.safetensors", e.Message);
        Assert.Contains("outside the", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void CorruptHeadersFailClearly()
    {
        using var temp = new TempDirectory();
        void Write(string name, byte[] header, int dataBytes = 16)
        {
            using var f = File.Create(temp.File(name));
            f.Write(BitConverter.GetBytes((ulong)header.Length));
            f.Write(header);
            f.Write(new byte[dataBytes]);
        }
        Write("json.safetensors", Encoding.UTF8.GetBytes("{\"a\": {\"dtype\": \"F32\", "));
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => SafetensorsFile.ReadHeader(temp.File("json.safetensors"))).Message);

        File.WriteAllBytes(temp.File("len.safetensors"), BitConverter.GetBytes(1_000_000UL).Concat(new byte[20]).ToArray());
        Assert.Contains("exceeds", Assert.Throws<InvalidDataException>(() => SafetensorsFile.ReadHeader(temp.File("len.safetensors"))).Message);

        File.WriteAllBytes(temp.File("tiny.safetensors"), new byte[3]);
        Assert.Contains("3 bytes", Assert.Throws<InvalidDataException>(() => SafetensorsFile.ReadHeader(temp.File("tiny.safetensors"))).Message);

        Write("dtype.safetensors", Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}"));
        var d = Assert.Throws<InvalidDataException>(() => SafetensorsFile.ReadHeader(temp.File("dtype.safetensors")));
        Assert.Contains("'w'", d.Message);
        Assert.Contains("F8_E4M3", d.Message);

        Write("overlap.safetensors", Encoding.UTF8.GetBytes(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"));
        Assert.Contains("overlaps", Assert.Throws<InvalidDataException>(() => SafetensorsFile.ReadHeader(temp.File("overlap.safetensors"))).Message);

        Write("size.safetensors", Encoding.UTF8.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}"));
        Assert.Contains("needs 12 bytes", Assert.Throws<InvalidDataException>(() => SafetensorsFile.ReadHeader(temp.File("size.safetensors"))).Message);

        Assert.Throws<FileNotFoundException>(() => ClipModel.FromPretrained(temp.File("absent.safetensors")));
    }

    [Fact]
    public void ANonClipCheckpointIsRefused()
    {
        using var temp = new TempDirectory();
        using var t = ones(2);
        SafetensorsFile.Save(temp.File("other.safetensors"), new Dictionary<string, Tensor> { ["encoder.weight"] = t });
        var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromPretrained(temp.File("other.safetensors")));
        Assert.Contains("not a CLIP checkpoint", e.Message);
    }

    [SkippableTheory]
    [InlineData("openai.safetensors", ClipCheckpointLayout.OpenAI)]
    [InlineData("hf.safetensors", ClipCheckpointLayout.HuggingFace)]
    [InlineData("hf-folder", ClipCheckpointLayout.HuggingFace)]
    public void SaveThenLoadIsBitIdentical(string name, ClipCheckpointLayout layout)
    {
        using var temp = new TempDirectory();
        using var original = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        ClipCheckpoint.Save(original, temp.File(name), layout);
        using var reloaded = ClipModel.FromPretrained(temp.File(name));
        Assert.Equal(original.Config, reloaded.Config);
        var a = original.state_dict();
        var b = reloaded.state_dict();
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var key in a.Keys) TensorAssert.BitIdentical(a[key], b[key], key);
        using var contents = ClipCheckpoint.Read(temp.File(name));
        Assert.Equal(layout, contents.Layout);
    }

    [SkippableFact]
    public void SavingOpenAILayoutReproducesTheFixtureTensors()
    {
        using var temp = new TempDirectory();
        using var model = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        ClipCheckpoint.Save(model, temp.File("again.safetensors"));
        var original = OpenAIFixture(out _);
        var saved = SafetensorsFile.Load(temp.File("again.safetensors"));
        Assert.Equal(original.Keys.OrderBy(k => k), saved.Keys.OrderBy(k => k));
        foreach (var key in original.Keys) TensorAssert.BitIdentical(original[key], saved[key], key);
        Dispose(original);
        Dispose(saved);
    }

    [SkippableFact]
    public void SavingHuggingFaceLayoutReproducesTheHfFixtureTensors()
    {
        using var temp = new TempDirectory();
        using var model = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        ClipCheckpoint.Save(model, temp.File("hf"), ClipCheckpointLayout.HuggingFace);
        var expected = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_hf.safetensors"));
        var saved = SafetensorsFile.Load(Path.Combine(temp.File("hf"), "model.safetensors"));
        Assert.Equal(expected.Keys.OrderBy(k => k), saved.Keys.OrderBy(k => k));
        foreach (var key in expected.Keys) TensorAssert.BitIdentical(expected[key], saved[key], key);
        Assert.Equal(ClipConfig.FromHuggingFaceFile(Fixtures.ClipTinyFile("config.json")),
            ClipConfig.FromHuggingFaceFile(Path.Combine(temp.File("hf"), "config.json")));
        Dispose(expected);
        Dispose(saved);
    }

    [SkippableFact]
    public void TorchSaveZipWithModulePrefixAndScalarsLoads()
    {
        using var temp = new TempDirectory();
        var sd = OpenAIFixture(out _);
        var wrapped = new System.Collections.Hashtable();
        foreach (var (k, v) in sd) wrapped["module." + k] = v;
        wrapped["module.input_resolution"] = tensor(32L);
        wrapped["module.context_length"] = tensor(77L);
        wrapped["module.vocab_size"] = tensor(49408L);
        PyTorchPickler.PickleStateDict(temp.File("clip.pt"), wrapped);

        // No config travels with a .pt: give the text head count (not derivable from shapes) explicitly.
        var config = ClipConfig.FromHuggingFaceFile(Fixtures.ClipTinyFile("config.json"));
        using var model = new ClipModelBuilder().FromCheckpoint(temp.File("clip.pt")).WithConfig(config).Build();
        using var golden = new ClipGolden();
        using var noGrad = no_grad();
        using var embeds = model.EncodeText(golden["input_ids"]);
        TensorAssert.Close(golden["text_embeds"], embeds, 1e-5, "text_embeds from .pt");
        Dispose(sd);
    }

    [SkippableFact]
    public void WithoutAConfigTheArchitectureIsInferredAndAConfigWins()
    {
        var sd = OpenAIFixture(out _);
        var inferred = ClipConfigInference.FromOpenAIStateDict(sd, "fixture");
        var declared = ClipConfig.FromHuggingFaceFile(Fixtures.ClipTinyFile("config.json"));
        Assert.Equal(1, inferred.Text.Heads); // OpenAI's width / 64 rule; the fixture really has 2 heads
        Assert.Equal(declared with { Text = declared.Text with { Heads = 1 } }, inferred);

        using var temp = new TempDirectory();
        SafetensorsFile.Save(temp.File("noconfig.safetensors"), sd); // no metadata
        using var fromShapes = ClipModel.FromPretrained(temp.File("noconfig.safetensors"));
        Assert.Equal(1, fromShapes.Config.Text.Heads);
        using var withConfig = new ClipModelBuilder().FromCheckpoint(temp.File("noconfig.safetensors")).WithConfig(declared).Build();
        Assert.Equal(2, withConfig.Config.Text.Heads);
        Dispose(sd);
    }

    [Fact]
    public void JitArchivesAndLegacyPicklesAreRefusedWithAFix()
    {
        using var temp = new TempDirectory();
        using (var zip = ZipFile.Open(temp.File("ViT-B-32.pt"), ZipArchiveMode.Create))
        {
            zip.CreateEntry("ViT-B-32/constants.pkl");
            zip.CreateEntry("ViT-B-32/code/__torch__/model.py");
        }
        var jit = Assert.Throws<InvalidDataException>(() => ClipModel.FromPretrained(temp.File("ViT-B-32.pt")));
        Assert.Contains("TorchScript", jit.Message);
        Assert.Contains("AllowTorchScript()", jit.Message);
        // With the opt-in, libtorch's loader gets the file; this one is no real archive, and that is reported as bad data.
        var broken = Assert.Throws<InvalidDataException>(() => new ClipModelBuilder().FromCheckpoint(temp.File("ViT-B-32.pt")).AllowTorchScript().Build());
        Assert.Contains("cannot load this TorchScript archive", broken.Message);

        File.WriteAllBytes(temp.File("legacy.pt"), new byte[] { 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc });
        var legacy = Assert.Throws<InvalidDataException>(() => ClipModel.FromPretrained(temp.File("legacy.pt")));
        Assert.Contains("legacy", legacy.Message);
    }

    [SkippableFact]
    public void ShardedHuggingFaceFoldersLoad()
    {
        using var temp = new TempDirectory();
        var hf = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_hf.safetensors"));
        var text = hf.Where(p => !p.Key.StartsWith("vision_model.", StringComparison.Ordinal)).ToDictionary(p => p.Key, p => p.Value);
        var vision = hf.Where(p => p.Key.StartsWith("vision_model.", StringComparison.Ordinal)).ToDictionary(p => p.Key, p => p.Value);
        SafetensorsFile.Save(temp.File("model-00001-of-00002.safetensors"), text);
        SafetensorsFile.Save(temp.File("model-00002-of-00002.safetensors"), vision);
        var map = text.Keys.Select(k => $"\"{k}\": \"model-00001-of-00002.safetensors\"")
            .Concat(vision.Keys.Select(k => $"\"{k}\": \"model-00002-of-00002.safetensors\""));
        File.WriteAllText(temp.File("model.safetensors.index.json"), "{\"metadata\": {}, \"weight_map\": {" + string.Join(",", map) + "}}");
        File.Copy(Fixtures.ClipTinyFile("config.json"), temp.File("config.json"));

        using var model = ClipModel.FromPretrained(temp.Path);
        using var golden = new ClipGolden();
        using var noGrad = no_grad();
        using var embeds = model.EncodeImage(golden["pixel_values"]);
        TensorAssert.Close(golden["image_embeds"], embeds, 1e-5, "image_embeds from shards");

        File.Delete(temp.File("model-00002-of-00002.safetensors"));
        var e = Assert.Throws<FileNotFoundException>(() => ClipModel.FromPretrained(temp.Path));
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Dispose(hf);
    }

    [Fact]
    public void RandomModelsAreReproducibleFromTheSeed()
    {
        using var a = ClipModel.Create(TinyConfigs.Clip, seed: 7);
        using var b = ClipModel.Create(TinyConfigs.Clip, seed: 7);
        using var c = ClipModel.Create(TinyConfigs.Clip, seed: 8);
        var sa = a.state_dict();
        var sb = b.state_dict();
        foreach (var key in sa.Keys) TensorAssert.BitIdentical(sa[key], sb[key], key);
        Assert.False(sa["visual.proj"].equal(c.state_dict()["visual.proj"]).all().item<bool>());
    }
}
