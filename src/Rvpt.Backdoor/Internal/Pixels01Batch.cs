using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Loads a batch of images of a source as <c>[N, 3, S, S]</c> in [0, 1]: decode (in parallel), resize and
/// centre-crop (or any per-image view), stack. The one batching helper of the backdoor code and the lab (issue 15);
/// the training loader of prompt tuning is <c>Rvpt.BatchLoader</c>, and files on disk are
/// <c>ClipImageProcessor.LoadBatch</c>'s.
/// </summary>
internal static class Pixels01Batch
{
    /// <summary>The stacked batch, in the caller's dispose scope; <paramref name="load"/> returns a new [3, H, W] [0, 1] pixel tensor.</summary>
    public static Tensor Load(Func<int, Tensor> load, IReadOnlyList<int> indices, ClipEvalTransform transform, CancellationToken cancellationToken) =>
        Load(load, indices, transform.ApplyPixels01, cancellationToken);

    /// <summary>The stacked batch of <paramref name="toPixels01"/> (a [3, H, W] [0, 1] pixel image to [3, S, S]) of each image, in the caller's dispose scope.</summary>
    public static Tensor Load(Func<int, Tensor> load, IReadOnlyList<int> indices, Func<Tensor, Tensor> toPixels01, CancellationToken cancellationToken)
    {
        var rows = new Tensor[indices.Count];
        try
        {
            Parallel.For(0, indices.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                using var raw = load(indices[i]);
                rows[i] = toPixels01(raw).DetachFromDisposeScope(); // built on worker threads: owned here until stacked
            });
            return stack(rows, 0);
        }
        finally
        {
            foreach (var r in rows) r?.Dispose();
        }
    }

    /// <summary>
    /// Two stacked views of each image from one decode: <paramref name="first"/> and <paramref name="second"/> map a
    /// [3, H, W] [0, 1] pixel image to [3, S, S]. Both batches are in the caller's dispose scope.
    /// </summary>
    public static (Tensor First, Tensor Second) LoadTwoViews(Func<int, Tensor> load, IReadOnlyList<int> indices,
        Func<Tensor, Tensor> first, Func<Tensor, Tensor> second, CancellationToken cancellationToken) =>
        LoadTwoViews(load, indices, (_, raw) => first(raw), (_, raw) => second(raw), cancellationToken);

    /// <summary>
    /// Like <see cref="LoadTwoViews(Func{int, Tensor}, IReadOnlyList{int}, Func{Tensor, Tensor}, Func{Tensor, Tensor}, CancellationToken)"/>,
    /// with the image's position in <paramref name="indices"/> passed to each view (e.g. for a per-image random seed).
    /// </summary>
    public static (Tensor First, Tensor Second) LoadTwoViews(Func<int, Tensor> load, IReadOnlyList<int> indices,
        Func<int, Tensor, Tensor> first, Func<int, Tensor, Tensor> second, CancellationToken cancellationToken)
    {
        var a = new Tensor[indices.Count];
        var b = new Tensor[indices.Count];
        try
        {
            Parallel.For(0, indices.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                using var raw = load(indices[i]);
                a[i] = first(i, raw).DetachFromDisposeScope();
                b[i] = second(i, raw).DetachFromDisposeScope();
            });
            return (stack(a, 0), stack(b, 0));
        }
        finally
        {
            foreach (var r in a.Concat(b)) r?.Dispose();
        }
    }

    /// <summary>The indices <c>start .. start + count - 1</c>.</summary>
    public static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();
}
