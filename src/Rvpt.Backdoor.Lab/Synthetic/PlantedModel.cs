using Rvpt.Clip;

namespace Rvpt.Backdoor.Lab;

/// <summary>A backdoored CLIP with the trigger that activates it. Disposing it disposes both.</summary>
public sealed class PlantedModel : IDisposable
{
    /// <summary>Wraps a planted model (taking ownership of the model and the trigger).</summary>
    /// <param name="attack">The attack.</param>
    /// <param name="model">The backdoored model.</param>
    /// <param name="trigger">The trigger planted in it.</param>
    /// <param name="path">The store entry the model was loaded from.</param>
    public PlantedModel(SyntheticAttack attack, ClipModel model, ITrigger trigger, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(path);
        Attack = attack;
        Model = model;
        Trigger = trigger;
        Path = path;
    }

    /// <summary>The attack.</summary>
    public SyntheticAttack Attack { get; }

    /// <summary>The backdoored model.</summary>
    public ClipModel Model { get; }

    /// <summary>The trigger planted in it.</summary>
    public ITrigger Trigger { get; }

    /// <summary>The store entry the model was loaded from.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        (Trigger as IDisposable)?.Dispose();
    }
}
