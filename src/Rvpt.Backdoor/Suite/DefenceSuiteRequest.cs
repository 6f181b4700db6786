using Rvpt.Clip;

namespace Rvpt.Backdoor;

/// <summary>
/// What <see cref="DefenceSuite.Run(DefenceSuiteRequest, IProgress{DefenceSuiteProgress}?, CancellationToken)"/>
/// measures: a model, the attack it carries, and the data the defences train, choose and are measured on.
/// </summary>
/// <param name="Model">The (backdoored) model; it needs a tokenizer. Not modified.</param>
/// <param name="TrainPool">Labelled images the shots are drawn from.</param>
/// <param name="Validation">Clean labelled images for hyper-parameter selection (disjoint from the test set).</param>
/// <param name="Test">Clean labelled test images (the trigger is applied for ASR).</param>
public sealed record DefenceSuiteRequest(ClipModel Model, ILabeledImageSource TrainPool, ILabeledImageSource Validation, ILabeledImageSource Test)
{
    /// <summary>Attack name for the report. Default "none".</summary>
    public string Attack { get; init; } = "none";

    /// <summary>
    /// The trigger whose success is measured; null (the default) measures clean accuracy only (ASR is NaN), as on a
    /// clean model (see the lab's <c>PremiseCheck</c>).
    /// </summary>
    public ITrigger? Trigger { get; init; }

    /// <summary>Index of the attack's target class in the test set's classes. Default 0.</summary>
    public int TargetClass { get; init; }

    /// <summary>Clean image-caption pairs for CleanCLIP; required when it is among the defences. Default none.</summary>
    public IImageCaptionSource? CleanPairs { get; init; }
}
