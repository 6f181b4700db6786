using Rvpt.Testing;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>CLIP training code's weight-decay rule (CleanCLIP's src/main.py): no decay on gains, biases and logit_scale.</summary>
public sealed class ClipWeightDecayTests
{
    [Theory]
    [InlineData("logit_scale", true)]
    [InlineData("visual.ln_pre.weight", true)]
    [InlineData("visual.ln_post.bias", true)]
    [InlineData("ln_final.weight", true)]
    [InlineData("visual.transformer.resblocks.0.ln_1.weight", true)]
    [InlineData("visual.transformer.resblocks.0.attn.in_proj_bias", true)]
    [InlineData("transformer.resblocks.0.mlp.c_fc.bias", true)]
    [InlineData("visual.transformer.resblocks.0.attn.in_proj_weight", false)]
    [InlineData("transformer.resblocks.0.mlp.c_proj.weight", false)]
    [InlineData("visual.class_embedding", false)]
    [InlineData("visual.positional_embedding", false)]
    [InlineData("visual.conv1.weight", false)]
    [InlineData("visual.proj", false)]
    [InlineData("text_projection", false)]
    [InlineData("token_embedding.weight", false)]
    public void ExemptsTheNamesCleanClipExempts(string name, bool exempt)
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        Assert.Contains(name, clip.named_parameters().Select(p => p.name)); // the rule reads the model's own names
        Assert.Equal(exempt, ClipWeightDecay.IsExempt(name));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnlyTheDecayedGroupShrinks(bool decayAll)
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var named = clip.named_parameters().ToList();
        var before = named.ToDictionary(p => p.name, p => p.parameter.detach().clone());
        clip.SetTrainable(true);
        // lr 0.1, decay 0.5 and zero gradients: AdamW's update is 0, its decoupled decay multiplies by 1 - 0.1 * 0.5.
        using var optimizer = optim.AdamW(ClipWeightDecay.Groups(named, 0.5, decayAll), 0.1);
        using (var zero = named.Select(p => p.parameter.sum()).Aggregate((x, y) => x + y) * 0) zero.backward();
        optimizer.step();
        clip.SetTrainable(false);
        foreach (var (name, p) in named)
        {
            var expected = decayAll || !ClipWeightDecay.IsExempt(name) ? before[name] * 0.95 : before[name];
            Assert.True(p.detach().allclose(expected, rtol: 1e-6, atol: 1e-7), $"{name}: decay applied {(decayAll ? "to all" : "by CleanCLIP's rule")}");
        }
        foreach (var t in before.Values) t.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ContrastiveFineTunerFollowsTheOption(bool decayAll)
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        using var pairs = ToyShapes.CaptionPairs(4, 1);
        // A negligible step (lr 1e-9) and a decay of up to 1e-3 per step (the scheduled lr * 1e6): what changes the gains is the decay alone.
        var options = new ContrastiveFineTuningOptions { LearningRate = 1e-9, WeightDecay = 1e6, Epochs = 1, BatchSize = 8, DecayGainsAndBiases = decayAll };
        float Gain() => clip.named_parameters().Single(p => p.name == "visual.ln_post.weight").parameter.mean().item<float>();
        float Scale() => clip.LogitScale.item<float>();
        float gain0 = Gain(), scale0 = Scale();
        var tuner = new ContrastiveFineTuner(clip, options);
        tuner.Fit(pairs);
        int steps = (pairs.Count + 7) / 8;
        float shrink = (float)Enumerable.Range(0, steps).Aggregate(1.0, (f, s) => f * (1 - tuner.LearningRateAt(s, steps) * 1e6));
        Assert.True(shrink < 0.9995f, "the decay must be visible at 5 decimals");
        Assert.Equal(decayAll ? gain0 * shrink : gain0, Gain(), 5);
        Assert.Equal(decayAll ? scale0 * shrink : scale0, Scale(), 5);
    }
}
