using Rvpt.Clip;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// The CLIP architecture and tokenizer sized for a <see cref="SyntheticWorld"/> on a CPU (<see cref="SyntheticModelOptions"/>;
/// by default a ViT with 8-pixel patches, width 128, 4 blocks; a text transformer of width 128, 2 blocks, context 24;
/// a 64-dimensional joint space: about 1.3M parameters in all).
/// </summary>
public static class SyntheticClip
{
    /// <summary>Context length of the synthetic text tower; the world's longest caption is well inside it.</summary>
    public const int ContextLength = 24;

    /// <summary>
    /// The CLIP config for <paramref name="world"/> and a tokenizer of <paramref name="vocabularySize"/> ids, with the
    /// architecture of <paramref name="model"/> (null for <see cref="SyntheticModelOptions"/>' defaults; when the
    /// world's image size is not a multiple of their 8-pixel patch, 4 or 1 pixels).
    /// </summary>
    public static ClipConfig Config(SyntheticWorld world, int vocabularySize, SyntheticModelOptions? model = null)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 3);
        model ??= new SyntheticModelOptions { PatchSize = world.ImageSize % 8 == 0 ? 8 : world.ImageSize % 4 == 0 ? 4 : 1 };
        return model.ToConfig(world.ImageSize, vocabularySize);
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

    /// <summary>
    /// A randomly initialised CLIP for <paramref name="world"/> (architecture <paramref name="model"/>, null for the
    /// defaults) with a tokenizer written to <paramref name="tokenizerDirectory"/>.
    /// </summary>
    public static ClipModel CreateRandom(SyntheticWorld world, string tokenizerDirectory, long seed = 0, SyntheticModelOptions? model = null)
    {
        var tokenizer = CreateTokenizer(world, tokenizerDirectory);
        return new ClipModelBuilder().WithConfig(Config(world, tokenizer.VocabularySize, model)).WithRandomWeights(seed)
            .WithTokenizerDirectory(tokenizerDirectory).Build();
    }
}
