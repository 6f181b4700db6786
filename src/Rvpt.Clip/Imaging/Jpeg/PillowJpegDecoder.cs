using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Clip;

/// <summary>
/// Decodes baseline, extended and progressive Huffman-coded 8-bit JPEGs with one (grayscale) or three components to
/// exactly the pixels Pillow gets from libjpeg-turbo with its defaults: the accurate integer IDCT
/// (<see cref="JpegIslowIdct"/>), fancy chroma upsampling (<see cref="JpegUpsampler"/>) and libjpeg's integer
/// YCbCr -> RGB tables (<see cref="JpegYCbCrToRgb"/>); the colour space is guessed as libjpeg-turbo's
/// <c>default_decompress_parms</c> does (<c>jdapimin.c</c>: JFIF means YCbCr, an Adobe marker's transform decides,
/// else component ids 'R','G','B' mean RGB). Files this class does not cover (CMYK/YCCK, 2 components, 12-bit,
/// lossless, arithmetic-coded or hierarchical, missing Huffman tables, fractional sampling ratios) are left to
/// ImageSharp: <see cref="Decode(byte[], Configuration, long)"/> returns <see langword="null"/> for them.
/// </summary>
/// <remarks>
/// Not reproduced: libjpeg-turbo's inter-block smoothing of progressive files, which it applies only when a file
/// lacks the scans that complete its low-frequency AC coefficients (never for files written with all scans).
/// </remarks>
internal static class PillowJpegDecoder
{
    private const int MaxBlocksInMcu = 10; // libjpeg's D_MAX_BLOCKS_IN_MCU

    /// <summary>
    /// Decodes <paramref name="data"/> (a whole JPEG file) into a new image, or returns <see langword="null"/> when
    /// the file uses a feature left to ImageSharp.
    /// </summary>
    /// <exception cref="InvalidDataException">The file's structure is invalid (libjpeg would stop with an error).</exception>
    public static Image<Rgb24>? Decode(byte[] data, Configuration configuration, long maxPixels)
    {
        var frame = new List<JpegComponent>();
        try
        {
            return Decode(data, configuration, maxPixels, frame);
        }
        finally
        {
            foreach (var component in frame)
                component.Dispose();
        }
    }

    /// <summary><see cref="Decode(byte[], Configuration, long)"/>; the frame's components go into <paramref name="frame"/> for disposal.</summary>
    private static Image<Rgb24>? Decode(byte[] data, Configuration configuration, long maxPixels, List<JpegComponent> frame)
    {
        var end = data.Length;
        if (end < 4 || data[0] != 0xFF || data[1] != JpegMarkers.Soi)
            throw new InvalidDataException("It does not start with a JPEG start-of-image marker (FF D8).");

        var quantTables = new int[4][];
        var dcSpecs = new (byte[] Counts, byte[] Symbols)?[4];
        var acSpecs = new (byte[] Counts, byte[] Symbols)?[4];
        JpegComponent[]? components = null;
        int width = 0, height = 0, maxH = 1, maxV = 1, mcusPerLine = 0, mcuRows = 0, restartInterval = 0;
        var progressive = false;
        bool sawJfif = false, sawAdobe = false;
        var adobeTransform = -1;

        var position = 2;
        while (true)
        {
            position = JpegMarkers.FindMarker(data, position, end);
            if (position + 1 >= end)
                break; // no end-of-image marker: decode what was read, as libjpeg does with a warning
            var code = data[position + 1];
            position += 2;
            if (code == JpegMarkers.Eoi)
                break;
            if (code is >= 0xD0 and <= 0xD7 or 0x01)
                continue; // standalone markers
            if (code == JpegMarkers.Soi)
                throw new InvalidDataException("It has a second start-of-image marker (FF D8).");
            if (position + 2 > end)
                throw new InvalidDataException($"It ends inside the header of marker FF {code:X2}.");
            var length = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(position));
            if (length < 2 || position + length > end)
                throw new InvalidDataException($"Its FF {code:X2} segment declares {length} bytes, past the end of the file.");
            var segment = data.AsSpan(position + 2, length - 2);
            position += length;

            switch (code)
            {
                case JpegMarkers.Dqt:
                    ReadQuantTables(segment, quantTables);
                    break;
                case JpegMarkers.Dht:
                    ReadHuffmanTables(segment, dcSpecs, acSpecs);
                    break;
                case JpegMarkers.Dri:
                    if (segment.Length != 2)
                        throw new InvalidDataException($"Its DRI segment has {segment.Length} bytes; expected 2.");
                    restartInterval = BinaryPrimitives.ReadUInt16BigEndian(segment);
                    break;
                case JpegMarkers.App0:
                    sawJfif |= segment.Length >= 14 && segment[..5].SequenceEqual("JFIF\0"u8);
                    break;
                case JpegMarkers.App14:
                    if (segment.Length >= 12 && segment[..5].SequenceEqual("Adobe"u8))
                    {
                        sawAdobe = true;
                        adobeTransform = segment[11];
                    }
                    break;
                case JpegMarkers.Sof0 or JpegMarkers.Sof1 or JpegMarkers.Sof2:
                    if (components is not null)
                        throw new InvalidDataException("It has more than one start-of-frame segment.");
                    if (segment.Length < 6 || segment[0] != 8)
                        return null; // not 8-bit
                    progressive = code == JpegMarkers.Sof2;
                    height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
                    width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                    components = ReadFrame(segment, width, height, maxPixels);
                    if (components is null)
                        return null;
                    frame.AddRange(components);
                    maxH = components.Max(c => c.HorizontalSampling);
                    maxV = components.Max(c => c.VerticalSampling);
                    if (components.Any(c => maxH % c.HorizontalSampling != 0 || maxV % c.VerticalSampling != 0))
                        return null; // libjpeg refuses fractional ratios; leave the verdict to ImageSharp
                    mcusPerLine = (width + 8 * maxH - 1) / (8 * maxH);
                    mcuRows = (height + 8 * maxV - 1) / (8 * maxV);
                    foreach (var component in components)
                        component.Allocate(width, height, maxH, maxV, mcusPerLine, mcuRows);
                    break;
                case JpegMarkers.Dnl:
                    return null;
                case >= 0xC3 and <= 0xCF and not JpegMarkers.Dht and not 0xC8 and not 0xCC:
                    return null; // lossless, hierarchical or arithmetic-coded frames
                case JpegMarkers.Sos:
                    if (components is null)
                        throw new InvalidDataException("It has a scan (SOS) before its frame header (SOF).");
                    var scan = ReadScan(segment, components, progressive, quantTables, dcSpecs, acSpecs);
                    if (scan is null)
                        return null;
                    var reader = new JpegBitReader(data, position, end);
                    scan.Decode(reader, mcusPerLine, mcuRows, restartInterval);
                    position = reader.FindEndOfScan();
                    break;
            }
        }

        if (components is null)
            throw new InvalidDataException("It has no frame header (SOF).");
        var storedAsRgb = components.Length == 3 && !sawJfif &&
            (sawAdobe ? adobeTransform == 0 : components[0].Id == 'R' && components[1].Id == 'G' && components[2].Id == 'B');
        return ToImage(components, width, height, maxH, maxV, ycc: !storedAsRgb, configuration);
    }

    private static void ReadQuantTables(ReadOnlySpan<byte> segment, int[][] tables)
    {
        while (segment.Length > 0)
        {
            var precision = segment[0] >> 4;
            var index = segment[0] & 15;
            if (index > 3 || precision > 1)
                throw new InvalidDataException($"Its DQT segment defines table {index} with precision {precision}; expected tables 0..3 of precision 0 or 1.");
            var size = 1 + 64 * (precision + 1);
            if (segment.Length < size)
                throw new InvalidDataException("Its DQT segment is shorter than the tables it declares.");
            var table = new int[64];
            for (var k = 0; k < 64; k++)
            {
                table[JpegScanDecoder.Natural(k)] = precision == 0
                    ? segment[1 + k]
                    : BinaryPrimitives.ReadUInt16BigEndian(segment[(1 + 2 * k)..]);
            }
            tables[index] = table;
            segment = segment[size..];
        }
    }

    private static void ReadHuffmanTables(ReadOnlySpan<byte> segment, (byte[], byte[])?[] dc, (byte[], byte[])?[] ac)
    {
        while (segment.Length > 0)
        {
            if (segment.Length < 17)
                throw new InvalidDataException("Its DHT segment is shorter than the table it declares.");
            var tableClass = segment[0] >> 4;
            var index = segment[0] & 15;
            if (tableClass > 1 || index > 3)
                throw new InvalidDataException($"Its DHT segment defines class {tableClass} table {index}; expected class 0 or 1, table 0..3.");
            var counts = segment.Slice(1, 16).ToArray();
            var count = counts.Sum(c => c);
            if (count > 256 || segment.Length < 17 + count)
                throw new InvalidDataException($"Its DHT segment declares {count} codes, more than 256 or than it holds.");
            (tableClass == 0 ? dc : ac)[index] = (counts, segment.Slice(17, count).ToArray());
            segment = segment[(17 + count)..];
        }
    }

    private static JpegComponent[]? ReadFrame(ReadOnlySpan<byte> segment, int width, int height, long maxPixels)
    {
        int count = segment[5];
        if (width == 0 || height == 0)
            return null; // height 0 means a DNL marker defines it; left to ImageSharp
        if ((long)width * height > maxPixels)
            throw new InvalidDataException($"Its frame is {width} x {height} pixels, more than the limit of {maxPixels}.");
        if (segment.Length != 6 + 3 * count)
            throw new InvalidDataException($"Its SOF segment has {segment.Length} bytes for {count} components; expected {6 + 3 * count}.");
        if (count is not (1 or 3))
            return null; // CMYK, YCCK and 2-component files stay with ImageSharp
        var components = new JpegComponent[count];
        for (var i = 0; i < count; i++)
        {
            var entry = segment.Slice(6 + 3 * i, 3);
            int h = entry[1] >> 4, v = entry[1] & 15;
            if (h is < 1 or > 4 || v is < 1 or > 4 || entry[2] > 3)
                throw new InvalidDataException($"Its frame component {entry[0]} has sampling {h} x {v} and table {entry[2]}; expected 1..4 and 0..3.");
            components[i] = new JpegComponent(entry[0], h, v, entry[2]);
        }
        return components;
    }

    private static JpegScanDecoder? ReadScan(ReadOnlySpan<byte> segment, JpegComponent[] frame, bool progressive, int[][] quantTables,
        (byte[] Counts, byte[] Symbols)?[] dcSpecs, (byte[] Counts, byte[] Symbols)?[] acSpecs)
    {
        int count = segment.Length > 0 ? segment[0] : 0;
        if (count is < 1 or > 4 || segment.Length != 4 + 2 * count)
            throw new InvalidDataException($"Its SOS segment has {segment.Length} bytes for {count} components; expected 1..4 components.");
        int ss = segment[1 + 2 * count], se = segment[2 + 2 * count];
        int ah = segment[3 + 2 * count] >> 4, al = segment[3 + 2 * count] & 15;
        if (progressive)
        {
            var bad = ss == 0 ? se != 0 : ss > se || se > 63 || count != 1;
            if (bad || (ah != 0 && al != ah - 1) || al > 13)
                throw new InvalidDataException($"Its progressive scan has Ss={ss}, Se={se}, Ah={ah}, Al={al}, {count} component(s): an invalid progression.");
        }

        var components = new JpegComponent[count];
        var blocks = 0;
        for (var i = 0; i < count; i++)
        {
            var id = segment[1 + 2 * i];
            var component = Array.Find(frame, c => c.Id == id)
                ?? throw new InvalidDataException($"Its scan names component {id}, which the frame does not have.");
            if (Array.IndexOf(components, component) >= 0)
                throw new InvalidDataException($"Its scan names component {id} twice.");
            components[i] = component;
            blocks += component.HorizontalSampling * component.VerticalSampling;

            int dcIndex = segment[2 + 2 * i] >> 4, acIndex = segment[2 + 2 * i] & 15;
            var needsDc = !progressive || (ss == 0 && ah == 0);
            var needsAc = !progressive || ss > 0;
            component.DcTable = needsDc ? Table(dcSpecs, dcIndex, isDc: true) : null;
            component.AcTable = needsAc ? Table(acSpecs, acIndex, isDc: false) : null;
            if ((needsDc && component.DcTable is null) || (needsAc && component.AcTable is null))
                return null; // libjpeg substitutes the standard tables (motion JPEG); ImageSharp decides

            if (!component.QuantLatched)
            {
                var table = quantTables[component.QuantTableIndex]
                    ?? throw new InvalidDataException($"Component {id} uses quantisation table {component.QuantTableIndex}, which is not defined.");
                table.CopyTo(component.Quant, 0);
                component.QuantLatched = true;
            }
        }
        if (count > 1 && blocks > MaxBlocksInMcu)
            throw new InvalidDataException($"Its scan has {blocks} blocks per MCU; at most {MaxBlocksInMcu} are allowed.");
        return new JpegScanDecoder(components, progressive, ss, se, ah, al);
    }

    private static JpegHuffmanTable? Table((byte[] Counts, byte[] Symbols)?[] specs, int index, bool isDc) =>
        index < specs.Length && specs[index] is { } spec ? JpegHuffmanTable.Create(spec.Counts, spec.Symbols, isDc) : null;

    /// <summary>IDCT of every component, upsampling and colour conversion into a new RGB image.</summary>
    private static Image<Rgb24> ToImage(JpegComponent[] components, int width, int height, int maxH, int maxV, bool ycc, Configuration configuration)
    {
        var upsamplers = new JpegUpsampler[components.Length];
        var planes = new List<byte[]>(components.Length);
        try
        {
            for (var i = 0; i < components.Length; i++)
            {
                var c = components[i];
                var stride = c.WidthInBlocks * 8;
                var plane = ArrayPool<byte>.Shared.Rent(checked(stride * c.HeightInBlocks * 8));
                planes.Add(plane);
                for (var by = 0; by < c.HeightInBlocks; by++)
                {
                    for (var bx = 0; bx < c.WidthInBlocks; bx++)
                        JpegIslowIdct.Transform(c.Block(by, bx), c.Quant, plane.AsSpan(by * 8 * stride + bx * 8), stride);
                }
                upsamplers[i] = new JpegUpsampler(plane, stride, c.DownsampledWidth, c.DownsampledHeight, maxH / c.HorizontalSampling, maxV / c.VerticalSampling);
            }
            return ConvertColors(upsamplers, width, height, ycc, configuration);
        }
        finally
        {
            foreach (var plane in planes)
                ArrayPool<byte>.Shared.Return(plane);
        }
    }

    /// <summary>Upsampled components to RGB rows of a new image: YCbCr conversion, RGB as stored, or gray repeated.</summary>
    private static Image<Rgb24> ConvertColors(JpegUpsampler[] upsamplers, int width, int height, bool ycc, Configuration configuration)
    {
        var image = new Image<Rgb24>(configuration, width, height);
        try
        {
            for (var y = 0; y < height; y++)
            {
                var rgb = MemoryMarshal.AsBytes(image.DangerousGetPixelRowMemory(y).Span);
                if (upsamplers.Length == 1)
                {
                    // Pillow decodes to "L"; convert('RGB') repeats the gray level.
                    var gray = upsamplers[0].Row(y);
                    for (var x = 0; x < width; x++)
                        rgb[3 * x] = rgb[3 * x + 1] = rgb[3 * x + 2] = gray[x];
                }
                else if (ycc)
                {
                    JpegYCbCrToRgb.ConvertRow(upsamplers[0].Row(y), upsamplers[1].Row(y), upsamplers[2].Row(y), rgb);
                }
                else
                {
                    ReadOnlySpan<byte> r = upsamplers[0].Row(y), g = upsamplers[1].Row(y), b = upsamplers[2].Row(y);
                    for (var x = 0; x < width; x++)
                    {
                        rgb[3 * x] = r[x];
                        rgb[3 * x + 1] = g[x];
                        rgb[3 * x + 2] = b[x];
                    }
                }
            }
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }
}
