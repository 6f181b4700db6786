namespace Rvpt.Clip;

/// <summary>One ranked zero-shot prediction.</summary>
/// <param name="ClassIndex">Index into the classifier's class names.</param>
/// <param name="ClassName">The class name.</param>
/// <param name="Probability">Softmax probability over all classes.</param>
public sealed record ZeroShotPrediction(int ClassIndex, string ClassName, float Probability);
