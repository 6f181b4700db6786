using Rvpt.Clip;

namespace Rvpt.Backdoor.Lab;

/// <summary>A backdoored CLIP with the trigger that activates it. Disposing it disposes both.</summary>
/// <param name="Attack">The attack.</param>
/// <param name="Model">The backdoored model.</param>
/// <param name="Trigger">The trigger planted in it.</param>
/// <param name="Path">The store entry the model was loaded from.</param>
public sealed record PlantedModel(SyntheticAttack Attack, ClipModel Model, ITrigger Trigger, string Path) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        (Trigger as IDisposable)?.Dispose();
    }
}
