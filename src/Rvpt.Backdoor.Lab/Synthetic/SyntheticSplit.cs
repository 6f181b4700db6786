namespace Rvpt.Backdoor.Lab;

/// <summary>The conventional splits of a synthetic world; see <see cref="SyntheticWorld.SplitSeed"/>.</summary>
public enum SyntheticSplit
{
    /// <summary>Training samples.</summary>
    Train = 0,

    /// <summary>Validation samples.</summary>
    Validation = 1,

    /// <summary>Test samples.</summary>
    Test = 2,
}
