using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Rvpt.Clip;
using TorchSharp;

namespace Rvpt;

/// <summary>
/// Turns a <see cref="ILabeledImageSource"/> into training (or evaluation) batches: seeded shuffling, parallel
/// decoding and augmentation, and a bounded number of batches prepared ahead on a background task.
/// </summary>
/// <remarks>
/// <para>
/// Determinism: for a given <see cref="BatchLoaderOptions.Seed"/> and epoch, the order and every augmentation are
/// fixed. All random numbers (the order, and one augmentation seed per image) are drawn on the calling thread when
/// <see cref="Epoch(int, CancellationToken)"/> or <see cref="EpochAsync"/> is called, before any decoding, and each worker seeds its own
/// <see cref="Random"/> from its image's seed; so the batches are bitwise identical whatever the thread timing or
/// <see cref="BatchLoaderOptions.MaxDegreeOfParallelism"/>.
/// </para>
/// <para>
/// Ownership: every <see cref="ImageBatch"/> handed out belongs to the consumer, which disposes it (e.g. at the end
/// of the step); its tensors are in no dispose scope. Batches prepared but not consumed (the consumer stopped early,
/// was cancelled, or a later image failed) are disposed by the loader when the enumeration ends, so always dispose
/// the enumerator (<c>foreach</c> does).
/// </para>
/// <para>
/// Errors: an exception while loading an image (e.g. an <see cref="InvalidDataException"/> naming a corrupt file)
/// ends the epoch and is rethrown, unchanged, to the consumer after the batches completed before it.
/// </para>
/// <para>
/// The loader is immutable; several epochs may run at once. The source must stay usable while an epoch runs.
/// </para>
/// </remarks>
public sealed class BatchLoader
{
    private const int Channels = 3;

    private readonly ILabeledImageSource source;
    private readonly ClipImageProcessor processor;
    private readonly CoOpAugmentation augmentation;
    private readonly ClipEvalTransform evaluation;

    /// <summary>Creates a loader.</summary>
    /// <param name="source">The images.</param>
    /// <param name="processor">Gives the output size S and the CLIP normalisation.</param>
    /// <param name="options">Settings; <see langword="null"/> means the defaults (batch 32, shuffled, augmented, seed 0).</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public BatchLoader(ILabeledImageSource source, ClipImageProcessor processor, BatchLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(processor);
        Options = options ?? new BatchLoaderOptions();
        Options.Validate();
        this.source = source;
        this.processor = processor;
        augmentation = new CoOpAugmentation(processor, Options.Augmentation);
        evaluation = new ClipEvalTransform(processor);
    }

    /// <summary>The settings in use.</summary>
    public BatchLoaderOptions Options { get; }

    /// <summary>The source the images come from.</summary>
    public ILabeledImageSource Source => source;

    /// <summary>Number of batches in an epoch (the last partial one counts unless <see cref="BatchLoaderOptions.DropLast"/>).</summary>
    public int BatchesPerEpoch => Options.DropLast
        ? source.Count / Options.BatchSize
        : (source.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The batches of one epoch, prepared in the background.</summary>
    /// <param name="epoch">Epoch number (&gt;= 0); with the seed, it fixes the order and augmentation.</param>
    /// <param name="cancellationToken">Stops the enumeration (with <see cref="OperationCanceledException"/>) and the background work.</param>
    /// <returns>The batches, each owned by the consumer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public IEnumerable<ImageBatch> Epoch(int epoch, CancellationToken cancellationToken = default) => Epoch(epoch, 0, cancellationToken);

    /// <summary>
    /// The batches of one epoch from batch <paramref name="firstBatch"/> on (0-based), exactly as <see cref="Epoch(int, CancellationToken)"/>
    /// would give them; the skipped batches are not decoded. Resuming training mid-epoch uses this.
    /// </summary>
    /// <param name="epoch">Epoch number (&gt;= 0); with the seed, it fixes the order and augmentation.</param>
    /// <param name="firstBatch">Index of the first batch to produce, in [0, <see cref="BatchesPerEpoch"/>].</param>
    /// <param name="cancellationToken">Stops the enumeration (with <see cref="OperationCanceledException"/>) and the background work.</param>
    /// <returns>The batches, each owned by the consumer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative or <paramref name="firstBatch"/> out of range.</exception>
    public IEnumerable<ImageBatch> Epoch(int epoch, int firstBatch, CancellationToken cancellationToken = default)
    {
        var plan = Plan(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(firstBatch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstBatch, plan.Length);
        return Run(plan[firstBatch..], cancellationToken);
    }

    /// <summary>The batches of one epoch, prepared in the background, for <c>await foreach</c>.</summary>
    /// <param name="epoch">Epoch number (&gt;= 0); with the seed, it fixes the order and augmentation.</param>
    /// <param name="cancellationToken">Stops the enumeration (with <see cref="OperationCanceledException"/>) and the background work.</param>
    /// <returns>The batches, each owned by the consumer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public IAsyncEnumerable<ImageBatch> EpochAsync(int epoch, CancellationToken cancellationToken = default)
    {
        var plan = Plan(epoch);
        return RunAsync(plan, cancellationToken);
    }

    /// <summary>One batch's work: source indices and one augmentation seed per image.</summary>
    private sealed record BatchPlan(int[] Indices, int[] Seeds);

    private BatchPlan[] Plan(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var random = new Random(SeedMixer.Mix(SeedMixer.To32(Options.Seed), epoch));
        var order = Enumerable.Range(0, source.Count).ToArray();
        if (Options.Shuffle)
        {
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = random.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        var seeds = new int[order.Length];
        for (var i = 0; i < seeds.Length; i++)
            seeds[i] = random.Next();

        var plans = new BatchPlan[BatchesPerEpoch];
        for (var b = 0; b < plans.Length; b++)
        {
            var start = b * Options.BatchSize;
            var length = Math.Min(Options.BatchSize, order.Length - start);
            plans[b] = new BatchPlan(order[start..(start + length)], seeds[start..(start + length)]);
        }
        return plans;
    }

    private IEnumerable<ImageBatch> Run(BatchPlan[] plan, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = CreateChannel();
        var producer = Task.Run(() => ProduceAsync(plan, channel.Writer, stop.Token), CancellationToken.None);
        try
        {
            while (channel.Reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
            {
                // Checked per batch: prefetched batches must not keep flowing after cancellation.
                while (!cancellationToken.IsCancellationRequested && channel.Reader.TryRead(out var batch))
                    yield return batch;
                cancellationToken.ThrowIfCancellationRequested();
            }
            // The channel closed: rethrow the producer's failure, if any (e.g. a corrupt file).
            producer.GetAwaiter().GetResult();
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(CancellationToken.None); }
            catch (AggregateException) { /* surfaced above, or the consumer is leaving anyway */ }
            DrainAndDispose(channel.Reader);
        }
    }

    private async IAsyncEnumerable<ImageBatch> RunAsync(BatchPlan[] plan, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = CreateChannel();
        var producer = Task.Run(() => ProduceAsync(plan, channel.Writer, stop.Token), CancellationToken.None);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Checked per batch: prefetched batches must not keep flowing after cancellation.
                while (!cancellationToken.IsCancellationRequested && channel.Reader.TryRead(out var batch))
                    yield return batch;
                cancellationToken.ThrowIfCancellationRequested();
            }
            await producer.ConfigureAwait(false);
        }
        finally
        {
            stop.Cancel();
            try { await producer.ConfigureAwait(false); }
            catch (Exception) { /* surfaced above, or the consumer is leaving anyway */ }
            DrainAndDispose(channel.Reader);
        }
    }

    private Channel<ImageBatch> CreateChannel() =>
        Channel.CreateBounded<ImageBatch>(new BoundedChannelOptions(Options.PrefetchBatches)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    private static void DrainAndDispose(ChannelReader<ImageBatch> reader)
    {
        while (reader.TryRead(out var left))
            left.Dispose();
    }

    private async Task ProduceAsync(BatchPlan[] plan, ChannelWriter<ImageBatch> writer, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var batchPlan in plan)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = Build(batchPlan, cancellationToken);
                try
                {
                    await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // Not handed over: nobody else will dispose it.
                    batch.Dispose();
                    throw;
                }
            }
        }
        finally
        {
            // Completed without an error: the consumer learns about a failure from the producer task itself.
            writer.TryComplete();
        }
    }

    private ImageBatch Build(BatchPlan plan, CancellationToken cancellationToken)
    {
        var size = processor.ImageSize;
        var count = plan.Indices.Length;
        // Workers write their image straight into its row of one native tensor: no managed pixel arrays per batch or
        // per image (they were 19 MB + 600 KB per image at ViT-B/32's batch 32, on the large-object heap).
        using var pixels01 = torch.empty([count, Channels, size, size], torch.ScalarType.Float32, torch.CPU);
        var failure = new FirstFailure();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        Parallel.For(0, count, parallel, (i, state) =>
        {
            try
            {
                TransformInto(plan.Indices[i], plan.Seeds[i], pixels01, i);
            }
            catch (Exception ex)
            {
                // Kept by position so the reported error does not depend on which thread failed first.
                failure.Record(i, ex);
                state.Stop();
            }
        });
        failure.ThrowIfAny();

        Span<long> values = count <= 1024 ? stackalloc long[count] : new long[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = source.GetLabel(plan.Indices[i]);
            if ((ulong)values[i] >= (ulong)source.ClassNames.Count)
                throw new InvalidDataException(
                    $"{source.Describe(plan.Indices[i])} has label {values[i]}, outside [0, {source.ClassNames.Count}) of the source's class names.");
        }
        var labels = torch.empty(count, torch.ScalarType.Int64, torch.CPU);
        try
        {
            using (var access = labels.data<long>()) access.CopyFrom(values, 0, 0);
            return new ImageBatch(processor.Normalize(pixels01), labels, Array.AsReadOnly(plan.Indices));
        }
        catch
        {
            labels.Dispose();
            throw;
        }
    }

    private void TransformInto(int index, int seed, torch.Tensor batch, int row)
    {
        using var scope = torch.NewDisposeScope();
        var pixels01 = source.LoadPixels01(index);
        var output = Options.Augment
            ? augmentation.ApplyPixels01(pixels01, new Random(seed))
            : evaluation.ApplyPixels01(pixels01);
        var destination = batch[row];
        if (!output.shape.SequenceEqual(destination.shape))
            throw new InvalidOperationException($"Transform of {source.Describe(index)} gave shape [{string.Join(", ", output.shape)}], expected [3, {processor.ImageSize}, {processor.ImageSize}].");
        // Each worker writes a disjoint row of the batch tensor; the views are made and freed on this thread.
        destination.copy_(output);
    }
}
