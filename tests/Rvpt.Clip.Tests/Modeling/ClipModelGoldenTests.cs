using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>Both checkpoint layouts reproduce OpenAI's reference outputs within the manifest's tolerances.</summary>
public sealed class ClipModelGoldenTests
{
    public static TheoryData<string> Layouts => new() { "openai", "hf-file", "hf-folder" };

    private static ClipModel Load(string layout, TempDirectory temp)
    {
        switch (layout)
        {
            case "openai":
                return ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
            case "hf-file":
                return ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_hf.safetensors"));
            default:
                // A Hugging Face model folder: config.json + model.safetensors + tokenizer files.
                File.Copy(Fixtures.ClipTinyFile("tiny_clip_hf.safetensors"), temp.File("model.safetensors"));
                foreach (var f in new[] { "config.json", "vocab.json", "merges.txt" }) File.Copy(Fixtures.ClipTinyFile(f), temp.File(f));
                return ClipModel.FromPretrained(temp.Path);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Layouts))]
    public void ReproducesEmbeddingsLogitsAndHiddenStates(string layout)
    {
        using var temp = new TempDirectory();
        using var golden = new ClipGolden();
        using var model = Load(layout, temp);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var pixels = golden["pixel_values"];
        var ids = golden["input_ids"];
        using var output = model.forward(pixels, ids);
        TensorAssert.Close(golden["image_embeds"], output.ImageEmbeds, 1e-5, "image_embeds");
        TensorAssert.Close(golden["text_embeds"], output.TextEmbeds, 1e-5, "text_embeds");
        TensorAssert.Close(golden["logits_per_image"], output.LogitsPerImage, 1e-4, "logits_per_image");
        TensorAssert.Close(golden["logits_per_text"], output.LogitsPerText, 1e-4, "logits_per_text");

        using var vision = model.EncodeImageWithHiddenStates(pixels, VisionHiddenStates.All);
        Assert.Equal(3, vision.ClassTokens.Count);
        for (int i = 0; i < 3; i++)
            TensorAssert.Close(golden[$"vision_cls_layer_{i}"], vision.ClassTokens[i], 5e-5, $"vision_cls_layer_{i}");
        TensorAssert.Close(golden["vision_last_layer_tokens"], vision.LastHiddenState, 5e-5, "vision_last_layer_tokens");
        TensorAssert.Close(golden["vision_last_layer_tokens"], vision.HiddenStates[^1], 5e-5, "hidden state of the last block");
        TensorAssert.Close(golden["vision_pooled"], vision.Pooled, 5e-5, "vision_pooled");
        TensorAssert.Close(golden["image_embeds"], vision.ImageEmbeds, 1e-5, "image_embeds via Encode");
        TensorAssert.Close(golden["vision_ln_pre_out"], model.Visual.Embed(pixels), 5e-5, "vision_ln_pre_out");
        TensorAssert.Close(golden["text_final_hidden"], model.EncodeTextHidden(ids), 5e-5, "text_final_hidden");
    }

    [SkippableFact]
    public void NormalizedVariantsHaveUnitNorm()
    {
        using var golden = new ClipGolden();
        using var model = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var img = model.EncodeImageNormalized(golden["pixel_values"]);
        var txt = model.EncodeTextNormalized(golden["input_ids"]);
        TensorAssert.Close(ones(4), img.norm(-1), 1e-6, "image norms");
        TensorAssert.Close(ones(6), txt.norm(-1), 1e-6, "text norms");
        TensorAssert.Close(golden["logits_per_image"], model.Logits(img, txt), 1e-4, "logits from normalised embeddings");
    }

    [SkippableFact]
    public void TokenizerFromTheFolderReproducesGoldenInputIds()
    {
        using var temp = new TempDirectory();
        using var golden = new ClipGolden();
        using var model = Load("hf-folder", temp);
        Assert.NotNull(model.Tokenizer);
        using var ids = model.Tokenizer!.EncodeBatch(golden.Texts, 77);
        Assert.True(golden["input_ids"].equal(ids).all().item<bool>(), "input_ids differ from clip.tokenize");
        using var embeds = model.EncodeTextNormalized(golden.Texts);
        using var expected = ClipModel.Normalize(golden["text_embeds"]);
        TensorAssert.Close(expected, embeds, 1e-5, "normalised text embeddings from strings");
    }

    [SkippableFact]
    public void HalfPrecisionWeightsConvertToTheRequestedDType()
    {
        using var temp = new TempDirectory();
        using var golden = new ClipGolden();
        var source = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), null, out var meta);
        var half = source.ToDictionary(p => p.Key, p => p.Value.to_type(ScalarType.Float16));
        SafetensorsFile.Save(temp.File("half.safetensors"), half, meta);

        using (var model = ClipModel.FromPretrained(temp.File("half.safetensors")))
        using (no_grad())
        {
            Assert.Equal(ScalarType.Float32, model.DType);
            using var embeds = model.EncodeImage(golden["pixel_values"]);
            TensorAssert.Close(golden["image_embeds"], embeds, 5e-3, "image_embeds from fp16 weights");
        }
        using (var bf16 = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), dtype: ScalarType.BFloat16))
        using (no_grad())
        {
            Assert.Equal(ScalarType.BFloat16, bf16.DType);
            using var embeds = bf16.EncodeImage(golden["pixel_values"].to_type(ScalarType.BFloat16));
            Assert.Equal(ScalarType.BFloat16, embeds.dtype);
            TensorAssert.Close(golden["image_embeds"], embeds, 5e-2, "image_embeds in bfloat16");
        }
        foreach (var t in source.Values.Concat(half.Values)) t.Dispose();
    }

    [Fact]
    public void RejectsPixelAndTokenTensorsOfTheWrongShape()
    {
        using var model = ClipModel.Create(TinyConfigs.Clip, seed: 1);
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => model.EncodeImage(zeros(2, 3, 16, 16)));
        Assert.Contains("[N, 3, 32, 32]", e.Message);
        Assert.Contains("[2, 3, 16, 16]", e.Message);
        var t = Assert.Throws<ArgumentException>(() => model.EncodeText(zeros(new long[] { 2, 78 }, ScalarType.Int64)));
        Assert.Contains("T <= 77", t.Message);
    }
}
