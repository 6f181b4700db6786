using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// The vocabulary embedded in Rvpt.Clip (Tokenization/Resources, generated from the clip-tiny fixture's files by the
/// committed script) is OpenAI CLIP's, and every 49,408-token checkpoint gets it when nothing comes with it.
/// </summary>
public sealed class BundledVocabularyTests
{
    [SkippableFact]
    public void TheBundledVocabularyIsTheFixtureFilesExactly()
    {
        using var vocab = File.OpenRead(Fixtures.ClipTinyFile("vocab.json"));
        using var merges = File.OpenRead(Fixtures.ClipTinyFile("merges.txt"));
        var files = ClipVocabulary.Load(vocab, "vocab.json", merges, "merges.txt");
        var bundled = ClipVocabulary.BundledVocabulary;
        Assert.Equal(49408, bundled.Tokens.Count);
        Assert.Equal(files.Tokens, bundled.Tokens);
        Assert.Equal(files.Merges, bundled.Merges);
        Assert.Equal(49406, bundled.SotId);
        Assert.Equal(49407, bundled.EotId);
        Assert.Empty(bundled.MissingSymbols);
    }

    [SkippableFact]
    public void ACheckpointWithNothingBesideItGetsTheBundledTokenizer()
    {
        using var temp = new TempDirectory();
        File.Copy(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), temp.File("clip.safetensors"));
        using var model = ClipModel.FromPretrained(temp.File("clip.safetensors"));
        Assert.NotNull(model.Tokenizer);
        Assert.Null(model.TokenizerDirectory);
        using var golden = new ClipGolden();
        using var ids = model.Tokenizer!.EncodeBatch(golden.Texts, truncate: true);
        TensorAssert.BitIdentical(golden["input_ids"], ids, "input_ids of the golden texts");
    }

    [SkippableFact]
    public void FilesBesideTheCheckpointStillWin()
    {
        using var temp = new TempDirectory();
        File.Copy(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), temp.File("clip.safetensors"));
        ClipVocabularyGenerator.WriteTo(temp.Path, new[] { "cat", "dog" });
        using var model = ClipModel.FromPretrained(temp.File("clip.safetensors"));
        Assert.Equal(temp.Path, model.TokenizerDirectory);
        Assert.NotEqual(49408, model.Tokenizer!.VocabularySize);
    }

    [Fact]
    public void OnlyA49408TokenTextTowerGetsIt()
    {
        using var small = ClipModel.Create(TinyConfigs.Clip);
        Assert.Null(small.Tokenizer);
    }

    [SkippableFact]
    public void SavingAHuggingFaceFolderWritesTheBundledVocabulary()
    {
        using var temp = new TempDirectory();
        File.Copy(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), temp.File("clip.safetensors"));
        using (var model = ClipModel.FromPretrained(temp.File("clip.safetensors")))
            ClipCheckpoint.Save(model, temp.File("hf"), ClipCheckpointLayout.HuggingFace);
        using var vocab = File.OpenRead(Path.Combine(temp.File("hf"), "vocab.json"));
        using var merges = File.OpenRead(Path.Combine(temp.File("hf"), "merges.txt"));
        var written = ClipVocabulary.Load(vocab, "vocab.json", merges, "merges.txt");
        Assert.Equal(ClipVocabulary.BundledVocabulary.Tokens, written.Tokens);
        Assert.Equal(ClipVocabulary.BundledVocabulary.Merges, written.Merges);
        using var reloaded = ClipModel.FromPretrained(temp.File("hf"));
        Assert.Equal(temp.File("hf"), reloaded.TokenizerDirectory);
    }
}
