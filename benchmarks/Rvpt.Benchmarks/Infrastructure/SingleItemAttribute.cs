namespace Rvpt.Benchmarks;

/// <summary>Marks a benchmark whose operation handles one item whatever its Batch parameter (for <see cref="ThroughputColumn"/>).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SingleItemAttribute : Attribute
{
}
