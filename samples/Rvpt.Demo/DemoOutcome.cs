using Rvpt.Backdoor;

namespace Rvpt.Demo;

/// <summary>What one attack's part of the demo measured.</summary>
/// <param name="Attack">Attack name.</param>
/// <param name="CleanModel">The clean model on the attack's trigger (CA, and its ASR as a baseline); null for a real model.</param>
/// <param name="Suite">The defences' results.</param>
/// <param name="GatePassed">Whether the backdoor counts as planted; null when not judged (real model).</param>
/// <param name="GateText">The gate's verdict in words.</param>
internal sealed record DemoOutcome(string Attack, BackdoorMetrics? CleanModel, DefenceSuiteResult Suite, bool? GatePassed, string GateText);
