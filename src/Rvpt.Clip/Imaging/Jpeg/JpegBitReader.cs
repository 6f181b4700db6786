using System.Runtime.CompilerServices;

namespace Rvpt.Clip;

/// <summary>
/// Reads the entropy-coded bits of one JPEG scan the way libjpeg-turbo's <c>jpeg_fill_bit_buffer</c> does
/// (github.com/libjpeg-turbo/libjpeg-turbo, <c>jdhuff.c</c>, 2.1.5): stuffed <c>FF 00</c> pairs are data bytes,
/// padding <c>FF</c>s before a marker are skipped, and once a marker (or the end of the data) is reached the reader
/// supplies zero bits. Asking for more bits than the data held sets <see cref="InsufficientData"/>, libjpeg's signal
/// to leave the remaining blocks of the restart interval untouched.
/// </summary>
internal sealed class JpegBitReader
{
    private readonly byte[] data;
    private readonly int end;
    private int position;
    private ulong bits;      // left-aligned: the next bit is bit 63
    private int count;       // bits held, real or zero padding
    private int paddingBits; // zero bits appended after the data ran out; they sit below the real ones
    private bool atMarker;

    /// <summary>Starts reading at <paramref name="start"/> (the first byte after an SOS header).</summary>
    public JpegBitReader(byte[] data, int start, int end)
    {
        this.data = data;
        this.end = end;
        position = start;
    }

    /// <summary>
    /// More bits were consumed than the data provided (libjpeg's <c>insufficient_data</c>): some of the zero padding,
    /// which always follows the real bits, has been read.
    /// </summary>
    public bool InsufficientData => count < paddingBits;

    /// <summary>Returns the next 16 bits without consuming them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Peek16()
    {
        if (count < 16)
            Fill();
        return (int)(bits >> 48);
    }

    /// <summary>Consumes <paramref name="n"/> bits (0..32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int n)
    {
        if (count < n)
            Fill();
        bits <<= n;
        count -= n;
    }

    /// <summary>Reads <paramref name="n"/> bits (0..16) as an unsigned number, first bit most significant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadBits(int n)
    {
        if (n == 0)
            return 0;
        if (count < n)
            Fill();
        var value = (int)(bits >> (64 - n));
        bits <<= n;
        count -= n;
        return value;
    }

    /// <summary>Reads one bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadBit() => ReadBits(1);

    /// <summary>
    /// Processes a restart boundary (libjpeg's <c>process_restart</c>): drops the buffered bits, moves to the next
    /// marker and consumes it when it is RSTn; otherwise the reader stays at that marker and yields zero bits.
    /// </summary>
    public void Restart()
    {
        var insufficient = InsufficientData;
        bits = 0;
        count = 0;
        paddingBits = 0;
        position = JpegMarkers.FindMarker(data, position, end);
        atMarker = true;
        if (position + 1 < end && data[position + 1] is >= 0xD0 and <= 0xD7)
        {
            position += 2;
            atMarker = false;
        }
        else if (insufficient)
        {
            paddingBits = 1; // still out of data: libjpeg keeps its flag when no restart marker follows
        }
    }

    /// <summary>Where the marker that ends this scan starts (or the end of the data).</summary>
    public int FindEndOfScan() => JpegMarkers.FindMarker(data, position, end);

    private void Fill()
    {
        // Fast path: plain data bytes (no FF) while they last.
        var data = this.data;
        while (count <= 56 && !atMarker && (uint)position < (uint)end && data[position] != 0xFF)
        {
            bits |= (ulong)data[position++] << (56 - count);
            count += 8;
        }
        while (count <= 56)
        {
            if (!atMarker && TryReadDataByte(out var value))
                bits |= (ulong)value << (56 - count);
            else
                paddingBits += 8; // zero padding once the data of this segment is exhausted
            count += 8;
        }
    }

    private bool TryReadDataByte(out byte value)
    {
        value = 0;
        if (position >= end)
        {
            atMarker = true;
            return false;
        }
        var b = data[position];
        if (b != 0xFF)
        {
            position++;
            value = b;
            return true;
        }
        // FF: skip padding FFs; FF 00 is a data byte 0xFF, anything else is a marker (left unread).
        var next = position + 1;
        while (next < end && data[next] == 0xFF)
            next++;
        if (next < end && data[next] == 0x00)
        {
            position = next + 1;
            value = 0xFF;
            return true;
        }
        position = next - 1;
        atMarker = true;
        return false;
    }
}
