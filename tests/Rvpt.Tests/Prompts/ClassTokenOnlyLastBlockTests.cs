using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// <see cref="DeepPromptInjector.ClassTokenOnlyLastBlock"/>: the frozen and prompted branches with the last block
/// computed for the class token alone give the full computation's outputs and prompt gradient within float
/// tolerance, in float32 and with bfloat16 compute.
/// </summary>
public sealed class ClassTokenOnlyLastBlockTests(ITestOutputHelper output)
{
    private static ClipModel Model() => PromptTestModels.FourBlocks(seed: 5);

    private sealed record Branches(Tensor Features, Tensor ClassTokens, Tensor Frozen, Tensor Gradient) : IDisposable
    {
        public void Dispose()
        {
            Features.Dispose();
            ClassTokens.Dispose();
            Frozen.Dispose();
            Gradient.Dispose();
        }
    }

    private static Branches Run(DeepPromptInjector prompts, Tensor images, Tensor text, Tensor labels)
    {
        using var scope = NewDisposeScope();
        prompts.Prompts.grad?.zero_();
        var trunk = prompts.RunSharedTrunk(images);
        var frozen = prompts.RunFrozen(trunk);
        var prompted = prompts.RunPrompted(trunk);
        new RepulsiveLoss(2).Compute(prompted, frozen, text, labels, prompts.Clip.LogitScale).Total.backward();
        return new Branches(prompted.ImageFeatures.detach().to_type(ScalarType.Float32).MoveToOuterDisposeScope(),
            prompted.ClassTokens.detach().to_type(ScalarType.Float32).MoveToOuterDisposeScope(),
            frozen.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), prompts.Prompts.grad!.clone().MoveToOuterDisposeScope());
    }

    [Theory]
    [InlineData(false, 1e-5)]
    [InlineData(true, 1e-2)] // bfloat16 resolution is 3.9e-3 per value
    public void BranchesAndPromptGradientMatchTheFullLastBlock(bool bfloat16, double tolerance)
    {
        using var clip = Model();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(6).Seed(1).Build();
        if (bfloat16) prompts.SetComputeDType(ScalarType.BFloat16);
        using var scope = NewDisposeScope();
        var g = new Generator(12, CPU);
        var images = randn(new long[] { 5, 3, 64, 64 }, generator: g);
        var labels = tensor(new long[] { 0, 1, 2, 3, 4 });
        var text = ClipModel.Normalize(randn(new long[] { 5, 64 }, generator: g));

        Assert.False(prompts.ClassTokenOnlyLastBlock); // off by default: results stay bit for bit as before
        var computeDType = prompts.ComputeDType;
        prompts.SetComputeDType(null);
        using var reference = Run(prompts, images, text, labels); // float32, full last block
        prompts.SetComputeDType(computeDType);
        using var full = Run(prompts, images, text, labels);
        prompts.ClassTokenOnlyLastBlock = true;
        using var fast = Run(prompts, images, text, labels);

        Assert.Equal(full.Features.shape, fast.Features.shape);
        Assert.Equal(full.ClassTokens.shape, fast.ClassTokens.shape); // [N, L - D, width]: the same meaning
        Assert.Equal(full.Frozen.shape, fast.Frozen.shape);
        // The blocks before the last are untouched: their class tokens are bit-identical.
        TensorAssert.BitIdentical(full.ClassTokens.narrow(1, 0, 2), fast.ClassTokens.narrow(1, 0, 2), "prompted class tokens before the last block");
        TensorAssert.BitIdentical(full.Frozen.narrow(1, 0, 2), fast.Frozen.narrow(1, 0, 2), "frozen class tokens before the last block");
        var errors = new Dictionary<string, double>
        {
            ["image features"] = TensorAssert.RelativeError(fast.Features, full.Features),
            ["last prompted class token"] = TensorAssert.RelativeError(fast.ClassTokens.select(1, 2), full.ClassTokens.select(1, 2)),
            ["last frozen class token"] = TensorAssert.RelativeError(fast.Frozen.select(1, 2), full.Frozen.select(1, 2)),
            ["prompt gradient"] = TensorAssert.RelativeError(fast.Gradient, full.Gradient),
        };
        output.WriteLine(string.Join("; ", errors.Select(e => $"{e.Key} {e.Value:E2}")));
        foreach (var (what, error) in errors) Assert.True(error <= tolerance, $"{what}: relative error {error:E2} exceeds {tolerance:E1}");
        // Against float32, the shortcut is as accurate as the full block in the same compute dtype.
        double fullError = TensorAssert.RelativeError(full.Gradient, reference.Gradient), fastError = TensorAssert.RelativeError(fast.Gradient, reference.Gradient);
        output.WriteLine($"prompt gradient against float32: full {fullError:E2}, class-token-only {fastError:E2}");
        Assert.True(fastError <= 1.5 * fullError + 1e-6, $"prompt gradient error against float32 {fastError:E2}, full block's {fullError:E2}");
        // The gradient reaches the last block's prompts (through its keys and values) and every other block's.
        var perBlock = fast.Gradient.abs().sum(new long[] { 1, 2 });
        Assert.True(perBlock.gt(0).all().item<bool>(), "a prompted block got no gradient");
    }

    [Theory]
    [InlineData(false, false, 1e-5)]
    [InlineData(false, true, 1e-5)]
    [InlineData(true, true, 1e-2)]
    public void SkippingThePromptsOutputsMatchesTheFullBlocks(bool bfloat16, bool classTokenOnlyLastBlock, double tolerance)
    {
        using var clip = Model();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(6).Seed(1).Build();
        if (bfloat16) prompts.SetComputeDType(ScalarType.BFloat16);
        using var scope = NewDisposeScope();
        var g = new Generator(13, CPU);
        var images = randn(new long[] { 5, 3, 64, 64 }, generator: g);
        var labels = tensor(new long[] { 0, 1, 2, 3, 4 });
        var text = ClipModel.Normalize(randn(new long[] { 5, 64 }, generator: g));

        Assert.False(prompts.SkipReplacedPromptOutputs); // off by default
        prompts.ClassTokenOnlyLastBlock = classTokenOnlyLastBlock;
        using var full = Run(prompts, images, text, labels);
        prompts.SkipReplacedPromptOutputs = true;
        using var fast = Run(prompts, images, text, labels);

        Assert.Equal(full.Features.shape, fast.Features.shape);
        Assert.Equal(full.ClassTokens.shape, fast.ClassTokens.shape);
        TensorAssert.BitIdentical(full.Frozen, fast.Frozen, "frozen class tokens (no prompts there)");
        var errors = new Dictionary<string, double>
        {
            ["image features"] = TensorAssert.RelativeError(fast.Features, full.Features),
            ["prompted class tokens"] = TensorAssert.RelativeError(fast.ClassTokens, full.ClassTokens),
            ["prompt gradient"] = TensorAssert.RelativeError(fast.Gradient, full.Gradient),
        };
        output.WriteLine(string.Join("; ", errors.Select(e => $"{e.Key} {e.Value:E2}")));
        foreach (var (what, error) in errors) Assert.True(error <= tolerance, $"{what}: relative error {error:E2} exceeds {tolerance:E1}");
        var perBlock = fast.Gradient.abs().sum(new long[] { 1, 2 });
        Assert.True(perBlock.gt(0).all().item<bool>(), "a prompted block got no gradient");
    }

    [Fact]
    public void ARunWithItIsAnotherRunForResuming()
    {
        using var clip = Model();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(2).Tokens(6).Build();
        using var scope = NewDisposeScope();
        using var data = new TensorDataset(rand(2, 3, 8, 8), tensor(new long[] { 0, 1 }), new[] { "a", "b" });
        var options = new TrainingOptions();
        Assert.DoesNotContain("last_block", TrainingRun.Describe(options, new RepulsiveLoss(), prompts, data, PromptTemplates.APhotoOfA).Keys);
        prompts.ClassTokenOnlyLastBlock = true;
        Assert.Equal("class-token-only", TrainingRun.Describe(options, new RepulsiveLoss(), prompts, data, PromptTemplates.APhotoOfA)["last_block"]);
        Assert.DoesNotContain("prompt_outputs", TrainingRun.Describe(options, new RepulsiveLoss(), prompts, data, PromptTemplates.APhotoOfA).Keys);
        prompts.SkipReplacedPromptOutputs = true;
        Assert.Equal("skipped", TrainingRun.Describe(options, new RepulsiveLoss(), prompts, data, PromptTemplates.APhotoOfA)["prompt_outputs"]);
    }
}
