using Rvpt.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>Behaviour every <see cref="ITrigger"/> shares: validation, dtype, range, purity, device.</summary>
public sealed class TriggerContractTests
{
    public static TheoryData<string> Names => new() { "BadNets", "Blended", "WaNet", "SIG", "TrojVQA" };

    private static ITrigger Make(string name) => name switch
    {
        "BadNets" => new BadNetsTrigger(),
        "Blended" => new BlendedTrigger(),
        "WaNet" => new WaNetTrigger(),
        "SIG" => new SigTrigger(),
        "TrojVQA" => new TrojVqaTrigger(),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Name_MatchesAndTextKeyOnlyForTrojVqa(string name)
    {
        var trigger = Make(name);
        Assert.Equal(name, trigger.Name);
        Assert.Equal(name == "TrojVQA" ? "remember " : null, trigger.TextKey);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void WrongShape_ThrowsNamingTheShape(string name)
    {
        using var scope = NewDisposeScope();
        var trigger = Make(name);
        foreach (var (bad, text) in new[] { (rand(2, 4, 8, 8), "[2, 4, 8, 8]"), (rand(3, 8, 8), "[3, 8, 8]"), (rand(new long[] { 1, 1, 3, 8, 8 }), "[1, 1, 3, 8, 8]") })
        {
            var ex = Assert.Throws<ArgumentException>(() => trigger.Apply(bad));
            Assert.Equal("images", ex.ParamName);
            Assert.Contains(text, ex.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void IntegerImages_Throw(string name)
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Make(name).Apply(zeros(new long[] { 1, 3, 8, 8 }, ScalarType.Byte)));
        Assert.Contains("Byte", ex.Message);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void NullImages_Throw(string name) => Assert.Throws<ArgumentNullException>(() => Make(name).Apply(null!));

    [Theory]
    [MemberData(nameof(Names))]
    public void DtypeShapeAndDevice_ArePreserved(string name)
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var images = TriggerTestImages.Noise(2, 40, 56, dtype: dtype);
            var output = Make(name).Apply(images, 3);
            Assert.Equal(dtype, output.dtype);
            Assert.Equal(images.shape, output.shape);
            Assert.Equal(images.device_type, output.device_type);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Float32AndFloat64_Agree(string name)
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Noise(2, 32, 32, dtype: ScalarType.Float64);
        var trigger = Make(name);
        TensorAssert.Close(trigger.Apply(images, 4), trigger.Apply(images.to_type(ScalarType.Float32), 4), 1e-5, name);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Range_IsPreserved_AndInputUntouched(string name)
    {
        using var scope = NewDisposeScope();
        var trigger = Make(name);
        foreach (var images in new[] { TriggerTestImages.Noise(3, 64, 64), zeros(2, 3, 64, 64), ones(2, 3, 64, 64) })
        {
            var copy = images.clone();
            var output = trigger.Apply(images, 9);
            TensorAssert.BitIdentical(copy, images, $"{name} input");
            Assert.True(output.min().item<float>() >= 0 && output.max().item<float>() <= 1, $"{name} left [0, 1]");
            if (name != "WaNet") Assert.True(TensorAssert.MaxAbsDiff(images, output) > 0, $"{name} changed nothing");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Apply_IsDeterministic_AndLeavesNothingInTheCallerScope(string name)
    {
        using var scope = NewDisposeScope();
        var trigger = Make(name);
        var images = TriggerTestImages.Noise(2, 24, 24);
        var before = scope.DisposablesCount;
        var a = trigger.Apply(images, 17);
        Assert.Equal(before + 1, scope.DisposablesCount);
        TensorAssert.BitIdentical(a, trigger.Apply(images, 17), name);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EmptyBatch_GivesEmptyBatch(string name)
    {
        using var scope = NewDisposeScope();
        var output = Make(name).Apply(zeros(0, 3, 16, 16));
        Assert.Equal(new long[] { 0, 3, 16, 16 }, output.shape);
    }

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void Cuda_MatchesCpu(string name)
    {
        Skip.IfNot(cuda.is_available(), "CUDA is not available");
        using var scope = NewDisposeScope();
        var trigger = Make(name);
        var images = TriggerTestImages.Noise(3, 64, 48);
        var gpu = trigger.Apply(images.cuda(), 5);
        Assert.Equal(DeviceType.CUDA, gpu.device_type);
        TensorAssert.Close(trigger.Apply(images, 5), gpu, 1e-5, name);
    }
}
