// RVPT in a dozen lines of the public API: few-shot repulsive prompt tuning of a CLIP on an image folder.
//
//   dotnet run --project samples/Rvpt.FewShot -c Release -- <clip checkpoint> <train folder> [epochs] [shots]
//
// With no arguments it makes a tiny random CLIP and a generated image folder (nothing to download) and runs two
// epochs, to show the loop end to end; its accuracy means nothing. The backdoor demo is samples/Rvpt.Demo.
using Microsoft.Extensions.Logging;
using Rvpt;
using Rvpt.Clip;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
var logger = loggerFactory.CreateLogger("Rvpt.FewShot");
var (checkpoint, trainFolder) = args.Length >= 2 ? (args[0], args[1]) : MakeToyInputs(Path.GetFullPath(Path.Combine("artifacts", "fewshot")));
int epochs = args.Length >= 3 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : (args.Length >= 2 ? 50 : 2);
int shots = args.Length >= 4 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : (args.Length >= 2 ? 16 : 4);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

// ---- the defence -------------------------------------------------------------------------------------------
using var clip = ClipModel.FromPretrained(checkpoint);
var shotSet = FewShotSampler.Sample(ImageFolderDataset.Open(trainFolder, clip.ImageProcessor), shots, seed: 1);
using var prompts = DeepPromptInjector.For(clip).FromBlock(Math.Min(3, clip.Config.Vision.Layers - 1)).Tokens(50).Build();
var trainer = FewShotTrainer.For(clip, prompts)
    .WithLoss(new RepulsiveLoss(2.0))
    .WithClasses(shotSet.ClassNames, PromptTemplates.APhotoOfA)
    .Epochs(epochs).BatchSize(32).Sgd(learningRate: 0.002)
    .WithLogger(logger)
    .Build();
var summary = trainer.Fit(shotSet, new Progress<TrainingProgress>(), cancel.Token);
prompts.Save(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(trainFolder))!, "defended.prompts.safetensors"));
// -------------------------------------------------------------------------------------------------------------

Console.WriteLine($"Trained {prompts.TrainableParameterCount:N0} prompt values ({prompts.TrainableFraction:P2} of CLIP) for {summary.EpochsCompleted} epochs " +
                  $"in {summary.Elapsed.TotalSeconds:F1} s: final loss {summary.FinalLoss:F4} (CE {summary.FinalCrossEntropy:F4}, repelling {summary.FinalRepelling:F4}).");
Console.WriteLine($"Prompted zero-shot accuracy on the shots: {PromptedAccuracy.Evaluate(prompts, shotSet):P1}");
return 0;

// A tiny random CLIP with a generated vocabulary, and an image folder of coloured shapes (3 classes x 6 images).
static (string Checkpoint, string TrainFolder) MakeToyInputs(string root)
{
    string[] classes = { "red", "green", "blue" };
    var modelDir = Path.Combine(root, "tiny-clip");
    var tokenizer = ClipVocabularyGenerator.WriteTo(modelDir, classes.Concat(new[] { "a", "photo", "of" }));
    var config = new ClipConfig
    {
        EmbedDim = 64,
        Vision = new ClipVisionConfig { ImageSize = 64, PatchSize = 8, Width = 128, Layers = 4, Heads = 2 },
        Text = new ClipTextConfig { ContextLength = 16, VocabSize = tokenizer.VocabularySize, Width = 64, Layers = 2, Heads = 2 },
    };
    using (var model = ClipModel.Create(config, seed: 7)) ClipCheckpoint.Save(model, Path.Combine(modelDir, "model.safetensors"));
    var random = new Random(5);
    for (int c = 0; c < classes.Length; c++)
    {
        var dir = Directory.CreateDirectory(Path.Combine(root, "train", classes[c])).FullName;
        for (int i = 0; i < 6; i++)
        {
            using var image = new Image<Rgb24>(80, 72);
            int cx = random.Next(20, 60), cy = random.Next(20, 52);
            for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                bool inside = Math.Abs(x - cx) < 14 && Math.Abs(y - cy) < 14;
                byte v = (byte)random.Next(0, 60);
                image[x, y] = inside ? new Rgb24(c == 0 ? (byte)230 : v, c == 1 ? (byte)230 : v, c == 2 ? (byte)230 : v) : new Rgb24(v, v, v);
            }
            image.SaveAsPng(Path.Combine(dir, $"{i}.png"));
        }
    }
    return (Path.Combine(modelDir, "model.safetensors"), Path.Combine(root, "train"));
}
