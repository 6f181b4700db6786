using Rvpt.Backdoor.Lab;
using Xunit;

namespace Rvpt.Backdoor.Tests;

public class LabGatesTests
{
    private static BackdoorMetrics Metrics(double ca, double asr) => new()
    {
        CleanAccuracy = ca, AttackSuccessRate = asr, TargetClass = 0, CleanCount = 100, AttackedCount = 90,
        CleanAccuracyPerClass = [ca], AttackSuccessRatePerClass = [double.NaN],
    };

    [Theory]
    [InlineData(0.95, 0.94, 0.935, true, true)]     // costs 1.0 and 1.5 points
    [InlineData(0.95, 0.93, 0.93, true, true)]      // exactly 2 points each: still within
    [InlineData(0.95, 0.929, 0.95, false, true)]    // untrained prompts cost 2.1 points
    [InlineData(0.95, 0.95, 0.90, true, false)]     // RVPT costs 5 points
    [InlineData(0.95, 0.97, 0.96, true, true)]      // gains pass
    public void Premise_allows_two_points_for_each_part(double clean, double untrained, double rvpt, bool untrainedPasses, bool rvptPasses)
    {
        var gates = LabGates.Premise(clean, untrained, rvpt);
        Assert.Equal(2, gates.Count);
        Assert.All(gates, g => Assert.Equal("C", g.Gate));
        Assert.Equal(untrainedPasses, gates[0].Passed);
        Assert.Equal(rvptPasses, gates[1].Passed);
    }

    [Theory]
    [InlineData(0.80, 0.95, true)]
    [InlineData(0.799, 0.95, false)]   // ASR below 80%
    [InlineData(0.99, 0.929, false)]   // clean accuracy 3.1 points below the clean model's 96%
    [InlineData(0.99, 0.93, true)]     // exactly 3 points
    public void Planted_needs_80_percent_ASR_within_3_points_of_clean_accuracy(double asr, double ca, bool passes)
    {
        var gate = LabGates.Planted("BadNets", 0.96, Metrics(ca, asr));
        Assert.Equal("A", gate.Gate);
        Assert.Equal(passes, gate.Passed);
        Assert.Contains("BadNets", gate.Subject);
    }

    [Theory]
    [InlineData(0.90, 0.45, true)]    // exactly half
    [InlineData(0.90, 0.46, false)]
    [InlineData(0.90, 0.0, true)]
    public void Removes_needs_the_ASR_cut_by_at_least_half(double before, double after, bool passes)
    {
        var gate = LabGates.Removes("Blended", "CleanCLIP", Metrics(0.9, before), Metrics(0.9, after));
        Assert.Equal("B", gate.Gate);
        Assert.Equal(passes, gate.Passed);
        Assert.Contains("CleanCLIP", gate.Subject);
    }

    [Theory]
    [InlineData(0.98, 0.80, true)]
    [InlineData(0.98, 0.79, false)]
    public void Leaves_in_place_needs_the_backdoor_still_planted(double before, double after, bool passes)
    {
        var gate = LabGates.LeavesInPlace("BadCLIP", "VPT", Metrics(0.9, before), Metrics(0.9, after));
        Assert.Equal(passes, gate.Passed);
        Assert.StartsWith(passes ? "B: BadCLIP: VPT leaves the backdoor: passed" : "B: BadCLIP: VPT leaves the backdoor: FAILED", gate.ToString());
    }
}
