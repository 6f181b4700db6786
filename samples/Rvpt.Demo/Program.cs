// The README's main command. Until the end-to-end defence demo lands (issue #5), this shows the CLIP layer working
// with nothing outside the repository: it builds a tiny random-weight CLIP with a generated vocabulary, saves it,
// loads it back (checking every weight is bit-identical), and classifies a generated image zero-shot.
using System.Diagnostics;
using Rvpt.Clip;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

var output = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine("artifacts", "demo"));
Directory.CreateDirectory(output);
var clock = Stopwatch.StartNew();
string[] classes = { "circle", "square", "star", "triangle", "ring" };

// 1. A CLIP-format tokenizer for a closed vocabulary (vocab.json + merges.txt, SOT/EOT as the last two ids).
var modelDir = Path.Combine(output, "tiny-clip");
var tokenizer = ClipVocabularyGenerator.WriteTo(modelDir, classes.Concat(new[] { "a", "photo", "of" }));
Console.WriteLine($"Generated a {tokenizer.VocabularySize}-token CLIP vocabulary in {modelDir}");

// 2. A tiny random CLIP (OpenAI initialisation, seeded) sized for a CPU.
var config = new ClipConfig
{
    EmbedDim = 64,
    Vision = new ClipVisionConfig { ImageSize = 64, PatchSize = 8, Width = 128, Layers = 4, Heads = 2 },
    Text = new ClipTextConfig { ContextLength = 16, VocabSize = tokenizer.VocabularySize, Width = 64, Layers = 2, Heads = 2 },
};
using var created = new ClipModelBuilder().WithConfig(config).WithRandomWeights(seed: 42).WithTokenizer(tokenizer).Build();
var weights = Path.Combine(modelDir, "model.safetensors");
ClipCheckpoint.Save(created, weights);
Console.WriteLine($"Saved a random CLIP with {config.ParameterCount:N0} parameters to {weights} ({new FileInfo(weights).Length / 1024} KB)");

// 3. Load it back (the tokenizer files beside the weights come with it) and check the round trip.
using var clip = ClipModel.FromPretrained(weights);
var before = created.state_dict();
var identical = clip.state_dict().All(p => p.Value.equal(before[p.Key]).all().item<bool>());
Console.WriteLine($"Reloaded: {clip.Config.Vision.Layers}-block ViT, tokenizer {(clip.Tokenizer is null ? "missing" : "attached")}, weights bit-identical: {identical}");
if (!identical || clip.Tokenizer is null) return 1;

// 4. A generated image: a yellow star-like blob on a blue gradient.
var imagePath = Path.Combine(output, "generated.png");
using (var image = new Image<Rgb24>(96, 80))
{
    for (int y = 0; y < image.Height; y++)
    for (int x = 0; x < image.Width; x++)
    {
        double dx = x - 48, dy = y - 40, r = Math.Sqrt(dx * dx + dy * dy), a = Math.Atan2(dy, dx);
        bool inside = r < 18 + 8 * Math.Cos(5 * a);
        image[x, y] = inside ? new Rgb24(250, 210, 40) : new Rgb24(20, (byte)(60 + y), (byte)(120 + x));
    }
    image.SaveAsPng(imagePath);
}

// 5. Zero-shot classification with CLIP's preprocessing (resize, centre crop, normalise).
using var classifier = ZeroShotClassifier.Create(clip, classes, PromptTemplates.APhotoOfA);
var predictions = classifier.Classify(imagePath, topK: 3);
Console.WriteLine($"Zero-shot predictions for {imagePath}:");
foreach (var p in predictions) Console.WriteLine($"  {p.ClassName,-10} {p.Probability:P1}");
Console.WriteLine("The weights are random, so these predictions are arbitrary: the demo shows the pipeline, not accuracy.");
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s. Output folder: {output}");
return 0;
