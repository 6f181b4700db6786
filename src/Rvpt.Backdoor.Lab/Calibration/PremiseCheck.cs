using Microsoft.Extensions.Logging;
using Rvpt.Clip;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// Gate C of a lab's calibration, measured on a clean model with clean data only: what inserting RVPT's untrained
/// prompts and training them (the paper's loss, the suite's prompt geometry, training recipe and learning-rate grid,
/// the rate chosen on clean validation accuracy) cost in clean test accuracy. The paper's premise is that CLIP encodes
/// features beyond the task's predictive ones, so the class tokens can be repelled from the original's while the
/// predictive part is kept: RVPT then costs almost nothing on clean data (ImageNet 62.0 clean, 61.8-62.8 with RVPT).
/// A model without that room pays for the repulsion in clean accuracy, and a backdoor measured in it says little about
/// the method. No trigger and no backdoor are involved.
/// </summary>
public static class PremiseCheck
{
    /// <summary>Runs the check for every seed of <paramref name="options"/>.</summary>
    /// <param name="clean">The clean model (needs a tokenizer); not modified.</param>
    /// <param name="trainPool">Labelled images the shots are drawn from.</param>
    /// <param name="validation">Clean labelled images for the learning-rate choice.</param>
    /// <param name="test">Clean labelled test images.</param>
    /// <param name="options">The suite settings RVPT runs with (its <c>Defences</c> and resistivity settings are not used).</param>
    /// <param name="logger">Receives the suite's log; null for none.</param>
    /// <param name="progress">Receives the phase and overall fraction.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public static PremiseCheckResult Run(ClipModel clean, ILabeledImageSource trainPool, ILabeledImageSource validation, ILabeledImageSource test,
        DefenceSuiteOptions? options = null, ILogger? logger = null, IProgress<DefenceSuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(test);
        var o = (options ?? new DefenceSuiteOptions()) with { Defences = [DefenceKind.None, DefenceKind.Rvpt], ResistivityImages = 0, PromptOutputDirectory = null };
        var result = new DefenceSuite(o, logger).Run(new DefenceSuiteRequest(clean, trainPool, validation, test) { Attack = "clean model" }, progress, cancellationToken);
        var none = result.Runs.Single(r => r.Defence == DefenceKind.None);
        var rvpt = result.Runs.Where(r => r.Defence == DefenceKind.Rvpt).ToList();

        var geometry = o.Prompts ?? DeepPromptOptions.ScaledTo(clean.Config.Vision);
        var evaluator = new BackdoorEvaluator(clean.ImageProcessor, o.EvaluationBatchSize);
        double untrained = 0;
        foreach (var seed in o.Seeds)
        {
            using var prompts = DeepPromptInjector.For(clean).WithOptions(geometry with { Seed = seed }).Build();
            using var classifier = ZeroShotImageClassifier.WithPrompts(prompts, test.ClassNames, o.Templates);
            untrained += evaluator.Evaluate(classifier, test, null, 0, cancellationToken: cancellationToken).CleanAccuracy;
        }
        return new PremiseCheckResult(none.Metrics.CleanAccuracy, untrained / o.Seeds.Count, rvpt.Average(r => r.Metrics.CleanAccuracy),
            rvpt.Average(r => r.FinalRepelling), rvpt);
    }
}
