using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The last step of the story: a base model plus saved prompts label image files.</summary>
public sealed class PromptedClassifierTests
{
    private static readonly string[] Classes = { "cat", "dog", "banana" };

    [SkippableFact]
    public void ABaseModelAndSavedPromptsLabelImageFiles()
    {
        using var temp = new TempDirectory();
        using var clip = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        Assert.NotNull(clip.Tokenizer); // the bundled vocabulary: nothing beside the checkpoint
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(5).Build();
        prompts.SetClasses(Classes, PromptTemplates.APhotoOfA);
        prompts.Save(temp.File("defended.prompts.safetensors"));
        var files = Enumerable.Range(0, 3).Select(i => DataTestImages.WritePng(temp.File($"img{i}.png"), 40 + 7 * i, 36, tint: i)).ToArray();

        using var defended = PromptedClassifier.Load(temp.File("defended.prompts.safetensors"), clip);
        Assert.Equal(Classes, defended.ClassNames);
        var labelled = defended.Classify(files, topK: 2, batchSize: 2);
        Assert.Equal(3, labelled.Count);
        Assert.All(labelled, top => Assert.Equal(2, top.Count));
        for (int i = 0; i < files.Length; i++)
        {
            var one = defended.Classify(files[i], topK: 2);
            Assert.Equal(one.Select(p => p.ClassName), labelled[i].Select(p => p.ClassName));
            Assert.Equal(one[0].Probability, labelled[i][0].Probability, 5); // batched or not: the same up to float rounding
        }

        // The same as zero-shot over the prompted encoder, computed by hand.
        using var manual = ZeroShotClassifier.Create(clip, Classes, PromptTemplates.APhotoOfA, imageEncoder: prompts.EncodeImage);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = clip.ImageProcessor.LoadBatch(files);
        TensorAssert.Close(manual.Logits(pixels), defended.Logits(pixels), 1e-5, "logits");

        // Deployed in bfloat16, the same file loads (the weights are the same, rounded) and labels the files.
        using var bf16 = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), dtype: ScalarType.BFloat16);
        using var deployed = PromptedClassifier.Load(temp.File("defended.prompts.safetensors"), bf16);
        Assert.All(deployed.Classify(files, topK: 1), top => Assert.Contains(top[0].ClassName, Classes));
    }

    [SkippableFact]
    public void PromptsWithoutRecordedClassesNeedThemGiven()
    {
        using var temp = new TempDirectory();
        using var clip = ClipModel.FromPretrained(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Build();
        prompts.Save(temp.File("p.safetensors"));
        var e = Assert.Throws<ArgumentException>(() => PromptedClassifier.Load(temp.File("p.safetensors"), clip));
        Assert.Contains("record no class names", e.Message);
        using var given = PromptedClassifier.Load(temp.File("p.safetensors"), clip, Classes);
        Assert.Equal(Classes, given.ClassNames);
    }
}
