namespace Rvpt;

/// <summary>Conveniences on <see cref="ILabeledImageSource"/>.</summary>
public static class LabeledImageSourceExtensions
{
    /// <summary>
    /// <see cref="FewShotSampler.Sample"/> as an extension:
    /// <c>ImageFolderDataset.Open("data/train", clip.ImageProcessor).SampleShots(16, seed: 1)</c>.
    /// </summary>
    /// <param name="source">The full collection.</param>
    /// <param name="shotsPerClass">Images per class, k &gt;= 1.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="shortfall">What to do with a class that has fewer than k images.</param>
    /// <returns>The few-shot view.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shotsPerClass"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">A class has fewer than k images and <paramref name="shortfall"/> is <see cref="FewShotShortfall.Throw"/>.</exception>
    public static SubsetSource SampleShots(this ILabeledImageSource source, int shotsPerClass, int seed, FewShotShortfall shortfall = FewShotShortfall.Throw) =>
        FewShotSampler.Sample(source, shotsPerClass, seed, shortfall);

    /// <summary>How many images each class has.</summary>
    /// <param name="source">The collection.</param>
    /// <returns>Entry c is the number of images with label c.</returns>
    public static int[] CountPerClass(this ILabeledImageSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var counts = new int[source.ClassNames.Count];
        for (var i = 0; i < source.Count; i++)
            counts[source.GetLabel(i)]++;
        return counts;
    }
}
