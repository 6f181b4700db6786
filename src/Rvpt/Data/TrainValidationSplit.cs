namespace Rvpt;

/// <summary>
/// A seeded, per-class split of a labelled image set into a training part and a held-out validation part (for
/// choosing hyper-parameters or early stopping on clean data), e.g. of an image folder:
/// <c>var split = TrainValidationSplit.Create(ImageFolderDataset.Open("data/train", clip.ImageProcessor), 0.2, seed: 1);</c>
/// </summary>
/// <param name="Train">The training images (a view of the source, in source order).</param>
/// <param name="Validation">The validation images (a view of the source, in source order), disjoint from <paramref name="Train"/>.</param>
public sealed record TrainValidationSplit(SubsetSource Train, SubsetSource Validation)
{
    /// <summary>
    /// Splits every class separately: of a class's n images, <c>max(1, round(n * validationFraction))</c> go to
    /// validation, chosen by a Fisher-Yates shuffle of the class's indices (ascending source order) with one
    /// <c>new Random(seed)</c> shared by the classes in class order (the same draw as <see cref="FewShotSampler"/>), so
    /// the same source and seed give the same split on every run and machine. Both parts keep the source's order.
    /// </summary>
    /// <param name="source">The labelled images; not owned (keep it alive while the views are used).</param>
    /// <param name="validationFraction">Fraction of each class held out, in (0, 1).</param>
    /// <param name="seed">The seed.</param>
    /// <param name="minimumTrainPerClass">Images every class must keep for training (e.g. the shots to be drawn from them). Default 1.</param>
    /// <returns>The two views.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1) or <paramref name="minimumTrainPerClass"/> is negative.</exception>
    /// <exception cref="InvalidDataException">A class would keep fewer than <paramref name="minimumTrainPerClass"/> training
    /// images (or has none for validation); the message names the class, its image count and the split.</exception>
    public static TrainValidationSplit Create(ILabeledImageSource source, double validationFraction, long seed, int minimumTrainPerClass = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in (0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(minimumTrainPerClass);

        var byClass = new List<int>[source.ClassNames.Count];
        for (var c = 0; c < byClass.Length; c++) byClass[c] = [];
        for (var i = 0; i < source.Count; i++)
        {
            var label = source.GetLabel(i);
            if ((uint)label >= (uint)byClass.Length)
                throw new InvalidDataException($"Image {i} ({source.Describe(i)}) has label {label}, outside [0, {byClass.Length}).");
            byClass[label].Add(i);
        }

        var random = new Random(SeedMixer.To32(seed));
        var train = new List<int>(source.Count);
        var validation = new List<int>();
        for (var c = 0; c < byClass.Length; c++)
        {
            var members = byClass[c];
            var held = Math.Max(1, (int)Math.Round(members.Count * validationFraction, MidpointRounding.AwayFromZero));
            if (members.Count - held < Math.Max(1, minimumTrainPerClass))
                throw new InvalidDataException(
                    $"Class {c} '{source.ClassNames[c]}' has {members.Count} image(s): holding out {held} for validation (fraction {validationFraction:0.###}) leaves " +
                    $"{Math.Max(0, members.Count - held)} for training, but {Math.Max(1, minimumTrainPerClass)} are needed. Add images, use fewer shots, or a separate validation folder.");
            for (var i = members.Count - 1; i > 0; i--)
            {
                var j = random.Next(i + 1);
                (members[i], members[j]) = (members[j], members[i]);
            }
            validation.AddRange(members.Take(held));
            train.AddRange(members.Skip(held));
        }
        train.Sort();
        validation.Sort();
        return new TrainValidationSplit(new SubsetSource(source, train), new SubsetSource(source, validation));
    }
}
