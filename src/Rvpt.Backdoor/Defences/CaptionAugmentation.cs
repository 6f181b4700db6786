namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="CaptionAugmentation"/>.</summary>
public sealed record CaptionAugmentationOptions
{
    /// <summary>Probability of deleting each word (at least one word is always kept). Default 0.1.</summary>
    public double DeletionProbability { get; init; } = 0.1;

    /// <summary>Number of random swaps of two word positions after deletion. Default 1.</summary>
    public int Swaps { get; init; } = 1;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (!(DeletionProbability >= 0 && DeletionProbability < 1))
            throw new ArgumentOutOfRangeException(nameof(DeletionProbability), DeletionProbability, "Must be in [0, 1).");
        if (Swaps < 0) throw new ArgumentOutOfRangeException(nameof(Swaps), Swaps, "Must be >= 0.");
    }
}

/// <summary>
/// A simple EDA-style caption augmentation (Wei and Zou, 2019, restricted to its two vocabulary-free operations) used
/// for CleanCLIP's text view: split on white space, delete each word independently with probability
/// <see cref="CaptionAugmentationOptions.DeletionProbability"/> (keeping one uniformly chosen word if all would go),
/// then swap two uniformly chosen positions <see cref="CaptionAugmentationOptions.Swaps"/> times, and join with single
/// spaces. Synonym replacement and random insertion (which need a thesaurus) are not done.
/// </summary>
/// <remarks>
/// All randomness comes from the <see cref="Random"/> passed in, drawn in a fixed order (one draw per word for
/// deletion, one more if every word was deleted, then two per swap, made even when fewer than two words remain), so
/// the same seed gives the same caption.
/// </remarks>
public static class CaptionAugmentation
{
    /// <summary>Augments <paramref name="caption"/>.</summary>
    /// <param name="caption">The caption.</param>
    /// <param name="random">The source of randomness.</param>
    /// <param name="options">Settings; <see langword="null"/> means the defaults.</param>
    /// <returns>The augmented caption (the input unchanged when it has no words).</returns>
    public static string Apply(string caption, Random random, CaptionAugmentationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(caption);
        ArgumentNullException.ThrowIfNull(random);
        options ??= new CaptionAugmentationOptions();
        options.Validate();
        var words = caption.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return caption;
        var kept = new List<string>(words.Length);
        foreach (var w in words)
            if (random.NextDouble() >= options.DeletionProbability) kept.Add(w);
        if (kept.Count == 0) kept.Add(words[random.Next(words.Length)]);
        for (int s = 0; s < options.Swaps; s++)
        {
            int i = random.Next(kept.Count), j = random.Next(kept.Count);
            (kept[i], kept[j]) = (kept[j], kept[i]);
        }
        return string.Join(' ', kept);
    }
}
