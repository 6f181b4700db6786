using Rvpt.Clip;

namespace Rvpt.Backdoor;

/// <summary>
/// The CLIP architecture and tokenizer sized for a <see cref="SyntheticWorld"/> on a CPU: a ViT with 8-pixel patches
/// (16 patch tokens at 32 px), width 128, 4 blocks, 4 heads; a text transformer of width 128, 2 blocks, context 24;
/// a 64-dimensional joint space (about 1.3M parameters in all).
/// </summary>
public static class SyntheticClip
{
    /// <summary>Context length of the synthetic text tower; the world's longest caption is well inside it.</summary>
    public const int ContextLength = 24;

    /// <summary>The tiny CLIP config for <paramref name="world"/> and a tokenizer of <paramref name="vocabularySize"/> ids.</summary>
    public static ClipConfig Config(SyntheticWorld world, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 3);
        int patch = world.ImageSize % 8 == 0 ? 8 : world.ImageSize % 4 == 0 ? 4 : 1;
        return new ClipConfig
        {
            EmbedDim = 64,
            Vision = new ClipVisionConfig { ImageSize = world.ImageSize, PatchSize = patch, Width = 128, Layers = 4, Heads = 4 },
            Text = new ClipTextConfig { ContextLength = ContextLength, VocabSize = vocabularySize, Width = 128, Layers = 2, Heads = 4 },
        }.Validate();
    }

    /// <summary>
    /// Writes a CLIP-format tokenizer (<c>vocab.json</c>, <c>merges.txt</c>, SOT/EOT as the last two ids) covering the
    /// world's vocabulary and the prompt words of <see cref="PromptTemplates.APhotoOfA"/> into <paramref name="directory"/>.
    /// </summary>
    public static ClipTokenizer CreateTokenizer(SyntheticWorld world, string directory)
    {
        ArgumentNullException.ThrowIfNull(world);
        var words = world.Vocabulary.Concat(["a", "photo", "of"]).Distinct(StringComparer.Ordinal);
        return ClipVocabularyGenerator.WriteTo(directory, words, new ClipTokenizerOptions { ContextLength = ContextLength });
    }

    /// <summary>A randomly initialised tiny CLIP for <paramref name="world"/> with a tokenizer written to <paramref name="tokenizerDirectory"/>.</summary>
    public static ClipModel CreateRandom(SyntheticWorld world, string tokenizerDirectory, long seed = 0)
    {
        var tokenizer = CreateTokenizer(world, tokenizerDirectory);
        return new ClipModelBuilder().WithConfig(Config(world, tokenizer.VocabularySize)).WithRandomWeights(seed)
            .WithTokenizerDirectory(tokenizerDirectory).Build();
    }
}
