using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.TrainingHelper;

/// <summary>
/// A tiny, fully seeded training setup shared by the fault tests and this helper program: a random 32-pixel CLIP
/// with a generated vocabulary, 16 generated images of 4 classes, and a trainer with 4 steps per epoch.
/// </summary>
public static class TinyTraining
{
    /// <summary>The class names (label order).</summary>
    public static readonly string[] Classes = ["red", "green", "blue", "yellow"];

    /// <summary>Images in the data set.</summary>
    public const int Images = 16;

    /// <summary>A random CLIP with a vocabulary of the prompt words, written to <paramref name="directory"/>.</summary>
    public static ClipModel Model(string directory, int seed = 3)
    {
        var tokenizer = ClipVocabularyGenerator.WriteTo(directory, Classes.Concat(["a", "photo", "of"]));
        var config = new ClipConfig
        {
            EmbedDim = 32,
            Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 3, Heads = 2 },
            Text = new ClipTextConfig { ContextLength = 12, VocabSize = tokenizer.VocabularySize, Width = 32, Layers = 1, Heads = 2 },
        };
        return new ClipModelBuilder().WithConfig(config).WithRandomWeights(seed).WithTokenizer(tokenizer).Build();
    }

    /// <summary>16 images of 40 x 40 in [0, 1]: noise with a square of the class's colour; labels cycle through the classes.</summary>
    public static TensorDataset Data(int seed = 11)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed, CPU);
        var images = rand(new long[] { Images, 3, 40, 40 }, generator: g) * 0.3f;
        var labels = tensor(Enumerable.Range(0, Images).Select(i => (long)(i % Classes.Length)).ToArray());
        for (var i = 0; i < Images; i++)
            images[i, i % 3, TensorIndex.Slice(8 + i % 5, 28 + i % 5), TensorIndex.Slice(10, 30)] = tensor(0.6f + 0.1f * (i % 4));
        return new TensorDataset(images, labels, Classes);
    }

    /// <summary>Prompts at blocks 2-3, 4 tokens each, with dropout so that the dropout seeding is exercised too.</summary>
    public static DeepPromptInjector Prompts(ClipModel clip) =>
        DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Dropout(0.1).Seed(5).Build();

    /// <summary>The trainer: 4 steps of 4 images per epoch, augmentation on, seed 7.</summary>
    public static FewShotTrainerBuilder Trainer(ClipModel clip, DeepPromptInjector prompts, int epochs = 3) =>
        FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(epochs).BatchSize(4).Sgd(learningRate: 0.05).Warmup(1, 1e-3).Seed(7);
}
