namespace Rvpt.Clip;

/// <summary>
/// Fixed-point bicubic weights for one axis of a resize, computed exactly like Pillow's <c>precompute_coeffs</c>
/// followed by <c>normalize_coeffs_8bpc</c> (src/libImaging/Resample.c), for a contiguous range of output
/// positions. Each output position reads <see cref="Taps"/> consecutive inputs starting at <see cref="Start"/>.
/// </summary>
internal sealed class PillowBicubicKernel
{
    /// <summary>Fraction bits of the fixed-point weights: 32 - 8 - 2, leaving room for 8-bit values and overshoot.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Half-width of the bicubic filter at scale 1.</summary>
    private const double FilterSupport = 2.0;

    private readonly int[] start;
    private readonly int[] taps;
    private readonly int[] weights;

    private PillowBicubicKernel(int count, int kernelSize)
    {
        Count = count;
        KernelSize = kernelSize;
        start = new int[count];
        taps = new int[count];
        weights = new int[count * kernelSize];
    }

    /// <summary>Number of output positions covered.</summary>
    public int Count { get; }

    /// <summary>Stride of the weight table: the most inputs any output may read.</summary>
    public int KernelSize { get; }

    /// <summary>First input position read by any covered output.</summary>
    public int FirstInput { get; private set; }

    /// <summary>One past the last input position read by any covered output.</summary>
    public int EndInput { get; private set; }

    /// <summary>First input read by the <paramref name="i"/>-th covered output.</summary>
    public int Start(int i) => start[i];

    /// <summary>Number of inputs read by the <paramref name="i"/>-th covered output.</summary>
    public int Taps(int i) => taps[i];

    /// <summary>Fixed-point weights (scaled by 2^<see cref="PrecisionBits"/>) of the <paramref name="i"/>-th covered output.</summary>
    public ReadOnlySpan<int> Weights(int i) => weights.AsSpan(i * KernelSize, taps[i]);

    /// <summary>
    /// Weights for output positions <paramref name="firstOutput"/> .. <paramref name="firstOutput"/> +
    /// <paramref name="count"/> - 1 of a resize from <paramref name="inSize"/> to <paramref name="outSize"/>.
    /// An unchanged size gives the identity (one tap of weight 1.0), which reproduces Pillow skipping that pass.
    /// </summary>
    public static PillowBicubicKernel Create(int inSize, int outSize, int firstOutput, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outSize);
        ArgumentOutOfRangeException.ThrowIfNegative(firstOutput);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstOutput + (long)count, outSize, nameof(count));

        return inSize == outSize ? Identity(firstOutput, count) : Bicubic(inSize, outSize, firstOutput, count);
    }

    private static PillowBicubicKernel Identity(int firstOutput, int count)
    {
        // (2^21 + v * 2^22) >> 22 == v, so the pass copies its input exactly.
        var kernel = new PillowBicubicKernel(count, 1);
        for (var i = 0; i < count; i++)
        {
            kernel.start[i] = firstOutput + i;
            kernel.taps[i] = 1;
            kernel.weights[i] = 1 << PrecisionBits;
        }
        kernel.FirstInput = firstOutput;
        kernel.EndInput = firstOutput + count;
        return kernel;
    }

    private static PillowBicubicKernel Bicubic(int inSize, int outSize, int firstOutput, int count)
    {
        // Pillow passes the source box as floats; (float)inSize keeps its rounding for sizes beyond 2^24.
        var scale = (double)(float)inSize / outSize;
        // Downscaling widens the filter by the scale factor (antialiasing); upscaling keeps it at 1.
        var filterScale = Math.Max(scale, 1.0);
        var support = FilterSupport * filterScale;
        var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var inverseFilterScale = 1.0 / filterScale;

        var kernel = new PillowBicubicKernel(count, kernelSize);
        var k = new double[kernelSize];
        var firstInput = int.MaxValue;
        var endInput = 0;
        for (var i = 0; i < count; i++)
        {
            var center = (firstOutput + i + 0.5) * scale;
            // C casts truncate toward zero, and so do C# casts: "(int)(x + 0.5)" is Pillow's rounding.
            var xmin = Math.Max((int)(center - support + 0.5), 0);
            var xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;

            var sum = 0.0;
            for (var x = 0; x < xmax; x++)
            {
                // Same operation order as Pillow so the doubles round identically.
                var w = Cubic((x + xmin - center + 0.5) * inverseFilterScale);
                k[x] = w;
                sum += w;
            }

            var row = kernel.weights.AsSpan(i * kernelSize, kernelSize);
            for (var x = 0; x < xmax; x++)
            {
                var normalized = sum != 0.0 ? k[x] / sum : k[x];
                row[x] = ToFixedPoint(normalized);
            }

            kernel.start[i] = xmin;
            kernel.taps[i] = xmax;
            firstInput = Math.Min(firstInput, xmin);
            endInput = Math.Max(endInput, xmin + xmax);
        }
        kernel.FirstInput = firstInput;
        kernel.EndInput = endInput;
        return kernel;
    }

    /// <summary>Pillow's <c>bicubic_filter</c>: Keys' cubic convolution with a = -0.5 (Catmull-Rom), support 2.</summary>
    private static double Cubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0)
            x = -x;
        if (x < 1.0)
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0)
            return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /// <summary>Pillow's <c>normalize_coeffs_8bpc</c>: round half away from zero to 2^-22 steps.</summary>
    private static int ToFixedPoint(double weight) =>
        weight < 0
            ? (int)(-0.5 + weight * (1 << PrecisionBits))
            : (int)(0.5 + weight * (1 << PrecisionBits));
}
