using Rvpt.Backdoor;

namespace Rvpt.Cli.Lab;

/// <summary>What one attack's part of the lab demo measured.</summary>
/// <param name="Attack">Attack name.</param>
/// <param name="CleanModel">The clean model on the attack's trigger (its CA, and its ASR as a baseline).</param>
/// <param name="Suite">The defences' results.</param>
/// <param name="GatePassed">Whether the backdoor counts as planted (the planting gate).</param>
/// <param name="GateText">The gate's verdict in words.</param>
internal sealed record LabDemoOutcome(string Attack, BackdoorMetrics CleanModel, DefenceSuiteResult Suite, bool GatePassed, string GateText);
