using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>Zero-shot classification against the golden CLIP outputs.</summary>
public sealed class ZeroShotClassifierTests
{
    private static ClipModel FixtureModel() => new ClipModelBuilder()
        .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
        .WithTokenizerDirectory(Fixtures.ClipTiny)
        .Build();

    [SkippableFact]
    public void SingleTemplateLogitsEqualClipLogits()
    {
        using var golden = new ClipGolden();
        using var model = FixtureModel();
        // Golden text 0 is "a photo of a cat.", exactly the APhotoOfA prompt for "cat".
        using var classifier = ZeroShotClassifier.Create(model, new[] { "cat", "dog" }, PromptTemplates.APhotoOfA);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var expected = ClipModel.Normalize(golden["text_embeds"].narrow(0, 0, 1));
        TensorAssert.Close(expected, classifier.ClassEmbeddings.narrow(0, 0, 1), 1e-5, "class embedding of 'cat'");
        var logits = classifier.Logits(golden["pixel_values"]);
        TensorAssert.Close(golden["logits_per_image"].narrow(1, 0, 1), logits.narrow(1, 0, 1), 1e-4, "logits for 'cat'");
    }

    [SkippableFact]
    public void TemplateEnsembleIsTheNormalisedMeanOfNormalisedPrompts()
    {
        using var model = FixtureModel();
        var templates = new[] { "a photo of a {}.", "a drawing of the {}.", "itap of my {}." };
        using var classifier = ZeroShotClassifier.Create(model, new[] { "banana", "apple" }, templates);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var prompts = templates.Select(t => PromptTemplates.Format(t, "apple")).ToList();
        var each = model.EncodeTextNormalized(prompts);
        var expected = ClipModel.Normalize(each.mean(new long[] { 0 }, keepdim: true));
        TensorAssert.Close(expected, classifier.ClassEmbeddings.narrow(0, 1, 1), 1e-6, "ensembled embedding of 'apple'");
    }

    [SkippableFact]
    public void PredictRanksByProbability()
    {
        using var golden = new ClipGolden();
        using var model = FixtureModel();
        using var classifier = ZeroShotClassifier.Create(model, new[] { "cat", "banana", "dog", "car" }, PromptTemplates.ImageNet);
        var predictions = classifier.Predict(golden["pixel_values"], topK: 3);
        Assert.Equal(4, predictions.Count);
        using var probs = classifier.Probabilities(golden["pixel_values"]);
        using var argmax = probs.argmax(-1);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(3, predictions[i].Count);
            Assert.True(predictions[i][0].Probability >= predictions[i][1].Probability);
            Assert.True(predictions[i][1].Probability >= predictions[i][2].Probability);
            Assert.Equal(argmax[i].item<long>(), predictions[i][0].ClassIndex);
            Assert.Equal(classifier.ClassNames[predictions[i][0].ClassIndex], predictions[i][0].ClassName);
        }
        Assert.Equal(1.0, probs.sum(-1)[0].item<float>(), 5);
    }

    [Fact]
    public void TemplatesAndClassNamesAreValidated()
    {
        Assert.Equal(80, PromptTemplates.ImageNet.Count);
        Assert.Equal(80, PromptTemplates.ImageNet.Distinct().Count());
        Assert.All(PromptTemplates.ImageNet, t => Assert.Contains("{}", t));
        Assert.Throws<ArgumentException>(() => PromptTemplates.Format("no placeholder", "cat"));

        using var temp = new TempDirectory();
        File.WriteAllLines(temp.File("classes.txt"), new[] { "# animals", "cat", "", "  golden retriever ", "dog" });
        Assert.Equal(new[] { "cat", "golden retriever", "dog" }, ClassNames.FromFile(temp.File("classes.txt")));
        File.WriteAllLines(temp.File("dup.txt"), new[] { "cat", "cat" });
        Assert.Contains("'cat' appears 2 times", Assert.Throws<InvalidDataException>(() => ClassNames.FromFile(temp.File("dup.txt"))).Message);
        File.WriteAllText(temp.File("empty.txt"), "\n# nothing\n");
        Assert.Throws<InvalidDataException>(() => ClassNames.FromFile(temp.File("empty.txt")));
        Assert.Throws<FileNotFoundException>(() => ClassNames.FromFile(temp.File("absent.txt")));
    }

    [SkippableFact]
    public void TheClassifierRunsWhereTheModelIs()
    {
        using var golden = new ClipGolden();
        using var bf16 = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), dtype: ScalarType.BFloat16);
        using var classifier = ZeroShotClassifier.Create(bf16, new[] { "cat", "dog" });
        Assert.Equal(ScalarType.BFloat16, classifier.DType);
        Assert.Equal(TorchSharp.DeviceType.CPU, classifier.Device.type);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // float64 pixels (any dtype, any device) are taken to the model's device and computed in its dtype.
        var fromDouble = classifier.Logits(golden["pixel_values"].to_type(ScalarType.Float64));
        var fromModelDType = classifier.Logits(golden["pixel_values"].to_type(ScalarType.BFloat16));
        TensorAssert.BitIdentical(fromModelDType, fromDouble, "logits from float64 vs bfloat16 pixels");
    }
}
