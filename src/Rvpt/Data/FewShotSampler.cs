namespace Rvpt;

/// <summary>Draws a few-shot training set: k images per class, reproducibly from a seed.</summary>
public static class FewShotSampler
{
    /// <summary>
    /// Chooses <paramref name="shotsPerClass"/> images of every class. Per class, in class order, the class's indices
    /// (ascending, i.e. the source's order) are shuffled by Fisher-Yates with one <c>new Random(seed)</c> shared by all
    /// classes, and the first k are taken. <see cref="Random(int)"/>'s seeded algorithm is fixed, so the same source
    /// and seed give the same sample on every run and machine.
    /// </summary>
    /// <param name="source">The full collection.</param>
    /// <param name="shotsPerClass">Images per class, k &gt;= 1.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="shortfall">What to do with a class that has fewer than k images.</param>
    /// <returns>A view holding the chosen images grouped by class (class 0 first), ascending source order within a class.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shotsPerClass"/> is not positive.</exception>
    /// <exception cref="InvalidDataException">A class has fewer than k images and <paramref name="shortfall"/> is
    /// <see cref="FewShotShortfall.Throw"/>, or an image's label is not a class index; the message names the class or image.</exception>
    public static SubsetSource Sample(ILabeledImageSource source, int shotsPerClass, long seed, FewShotShortfall shortfall = FewShotShortfall.Throw)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shotsPerClass);

        var byClass = new List<int>[source.ClassNames.Count];
        for (var c = 0; c < byClass.Length; c++)
            byClass[c] = [];
        for (var i = 0; i < source.Count; i++)
        {
            var label = source.GetLabel(i);
            if ((uint)label >= (uint)byClass.Length)
                throw new InvalidDataException(
                    $"Image {i} ({source.Describe(i)}) has label {label}, outside [0, {byClass.Length}) of the source's {byClass.Length} class names.");
            byClass[label].Add(i);
        }

        var random = new Random(SeedMixer.To32(seed));
        var chosen = new List<int>(shotsPerClass * byClass.Length);
        for (var c = 0; c < byClass.Length; c++)
        {
            var members = byClass[c];
            if (members.Count < shotsPerClass && shortfall == FewShotShortfall.Throw)
                throw new InvalidDataException(
                    $"Class {c} '{source.ClassNames[c]}' has {members.Count} images but {shotsPerClass} shots per class were asked for; use fewer shots or {nameof(FewShotShortfall)}.{nameof(FewShotShortfall.UseAll)}.");
            Shuffle(members, random);
            var take = Math.Min(shotsPerClass, members.Count);
            chosen.AddRange(members.Take(take).Order());
        }
        return new SubsetSource(source, chosen);
    }

    /// <summary>Fisher-Yates, written out so the draws are fixed (not whatever a library shuffle happens to do).</summary>
    private static void Shuffle(List<int> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
