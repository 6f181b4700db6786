using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>Loads a batch of images as <c>[N, 3, S, S]</c> in [0, 1]: decode (in parallel), resize and centre-crop, stack.</summary>
internal static class UnitImageBatch
{
    /// <summary>The stacked batch, in the caller's dispose scope; <paramref name="load"/> returns a new [3, H, W] unit tensor.</summary>
    public static Tensor Load(Func<int, Tensor> load, IReadOnlyList<int> indices, ClipEvalTransform transform, CancellationToken cancellationToken)
    {
        var rows = new Tensor[indices.Count];
        try
        {
            Parallel.For(0, indices.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                using var raw = load(indices[i]);
                rows[i] = transform.ApplyUnit(raw).DetachFromDisposeScope(); // built on worker threads: owned here until stacked
            });
            return stack(rows, 0);
        }
        finally
        {
            foreach (var r in rows) r?.Dispose();
        }
    }

    /// <summary>The indices <c>start .. start + count - 1</c>.</summary>
    public static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();
}
