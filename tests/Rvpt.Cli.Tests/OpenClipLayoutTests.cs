using System.Text.Json;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>
/// `rvpt zero-shot`, `evaluate` and `defend` end to end on the tiny model in OpenCLIP's layout (a folder with
/// open_clip_config.json) and in Hugging Face's layout (config.json beside the weights): the same predictions, CA/ASR
/// and trained prompts as on the OpenAI-layout file the other tests use.
/// </summary>
public class OpenClipLayoutTests
{
    [SkippableTheory]
    [InlineData("openclip")]
    [InlineData("hf")]
    public void Zero_shot_evaluate_and_defend_give_what_the_openai_layout_gives(string layout)
    {
        using var temp = new TempDirectory();
        var openai = TestData.TinyModel(temp.File("openai"));
        var model = layout == "openclip" ? TestData.TinyOpenClipFolder(temp.File("openclip")) : Fixtures.ClipTinyFile("tiny_clip_hf.safetensors");
        var train = TestData.ImageFolder(temp.File("train"), 4, seed: 11);
        var test = TestData.ImageFolder(temp.File("test"), 2, seed: 12);
        var classes = TestData.ClassesFile(temp.File("classes.txt"));

        // zero-shot
        string ZeroShot(string m)
        {
            var result = CliRun.Run("zero-shot", "--model", m, "--images", test, "--classes", classes, "--top", "3", "--format", "csv");
            Assert.True(result.ExitCode == 0, result.Describe());
            return result.Stdout;
        }
        var predictions = ZeroShot(model);
        Assert.Equal(1 + 6 * 3, predictions.Trim().Split('\n').Length); // header + 3 classes for each of 6 images
        Assert.Equal(ZeroShot(openai), predictions);

        // evaluate (CA and ASR per class)
        JsonElement Evaluate(string m, params string[] extra) =>
            CliRun.Run(["evaluate", "--model", m, "--test", test, "--trigger", "blended", "--target", "banana", "--json", .. extra]).Json();
        var evaluation = Evaluate(model);
        Assert.Equal(6, evaluation.GetProperty("clean_images").GetInt32());
        Assert.Equal(Evaluate(openai).GetProperty("per_class").ToString(), evaluation.GetProperty("per_class").ToString());

        // defend: the same prompts, and they fit the other layout's model
        string Defend(string m, string output)
        {
            var run = CliRun.Run("defend", "--model", m, "--train", train, "--out", output, "--shots", "2", "--epochs", "2", "--batch", "4",
                "--depth", "1", "--tokens", "4", "--val-fraction", "0.25", "--json");
            var summary = run.Json();
            Assert.Equal(2, summary.GetProperty("epochs_completed").GetInt32());
            Assert.Equal(TestData.Classes, summary.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
            return Path.Combine(output, "prompts.safetensors");
        }
        var prompts = Defend(model, temp.File("defended"));
        var reference = Defend(openai, temp.File("defended-openai"));
        using (var a = SafetensorsFile.Load(prompts)["prompts"])
        using (var b = SafetensorsFile.Load(reference)["prompts"])
            Assert.True(a.equal(b).all().item<bool>(), $"the prompts trained on the {layout} layout differ from the OpenAI layout's");
        Assert.Equal(Evaluate(openai, "--prompts", prompts).GetProperty("per_class").ToString(),
            Evaluate(model, "--prompts", prompts).GetProperty("per_class").ToString());
    }
}
