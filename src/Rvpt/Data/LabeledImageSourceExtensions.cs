namespace Rvpt;

/// <summary>Conveniences on <see cref="ILabeledImageSource"/>.</summary>
public static class LabeledImageSourceExtensions
{
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
