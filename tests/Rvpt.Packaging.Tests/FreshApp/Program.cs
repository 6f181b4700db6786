// A tiny RVPT defence through the packages' public API only, as a newcomer would write it from the README:
// a random-weight CLIP with a generated vocabulary, deep prompts trained for one epoch with the repulsive loss on
// 16 generated images, the prompt checkpoint saved and loaded back, and the defended model evaluated against a
// BadNets trigger. Prints one line that the packaging test checks. Usage: FreshApp <work folder>
using Rvpt;
using Rvpt.Backdoor;
using Rvpt.Clip;
using static TorchSharp.torch;

var work = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "rvpt-fresh-app");
Directory.CreateDirectory(work);

string[] classes = ["red", "green", "blue", "yellow"];
var tokenizer = ClipVocabularyGenerator.WriteTo(Path.Combine(work, "vocabulary"), classes.Concat(["a", "photo", "of"]));
var config = new ClipConfig
{
    EmbedDim = 32,
    Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 3, Heads = 2 },
    Text = new ClipTextConfig { ContextLength = 12, VocabSize = tokenizer.VocabularySize, Width = 32, Layers = 1, Heads = 2 },
};
using var clip = new ClipModelBuilder().WithConfig(config).WithRandomWeights(3).WithTokenizer(tokenizer).Build();

// 16 images of 40 x 40 in [0, 1]: noise with a bright square in a class-dependent channel.
using var data = MakeData(classes);

var checkpoint = Path.Combine(work, "defended.prompts.safetensors");
TrainingSummary summary;
Tensor trained;
using (var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(5).Build())
{
    var trainer = FewShotTrainer.For(clip, prompts)
        .WithLoss(new RepulsiveLoss(2.0))
        .WithClasses(classes, PromptTemplates.APhotoOfA)
        .Epochs(1).Warmup(epochs: 0).BatchSize(4).Sgd(learningRate: 0.05).Seed(7)
        .Build();
    summary = trainer.Fit(data);
    prompts.Save(checkpoint);
    trained = prompts.Prompts.detach().clone();
}

using var reloaded = DeepPromptInjector.Load(checkpoint, clip);
var identical = reloaded.Prompts.detach().allclose(trained, rtol: 0, atol: 0);
using var classifier = ZeroShotImageClassifier.WithPrompts(reloaded, classes, PromptTemplates.APhotoOfA);
var metrics = new BackdoorEvaluator(clip.ImageProcessor, batchSize: 8).Evaluate(classifier, data, new BadNetsTrigger(), targetClass: 0);
trained.Dispose();

Console.WriteLine(FormattableString.Invariant(
    $"RVPT-FRESH-APP steps={summary.Steps} loss={summary.FinalLoss:F4} reloaded={identical} clean-accuracy={metrics.CleanAccuracy:F3} attack-success-rate={metrics.AttackSuccessRate:F3}"));
return identical && double.IsFinite(summary.FinalLoss) ? 0 : 1;

static TensorDataset MakeData(string[] classes)
{
    const int count = 16;
    using var scope = NewDisposeScope();
    var g = new Generator(11, CPU);
    var images = rand(new long[] { count, 3, 40, 40 }, generator: g) * 0.3f;
    var labels = tensor(Enumerable.Range(0, count).Select(i => (long)(i % classes.Length)).ToArray());
    for (var i = 0; i < count; i++)
        images[i, i % 3, TensorIndex.Slice(8 + i % 5, 28 + i % 5), TensorIndex.Slice(10, 30)] = tensor(0.6f + 0.1f * (i % 4));
    return new TensorDataset(images, labels, classes);
}
