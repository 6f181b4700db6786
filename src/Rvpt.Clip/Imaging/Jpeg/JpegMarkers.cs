namespace Rvpt.Clip;

/// <summary>Marker codes and marker search of the JPEG format (ITU T.81, Table B.1).</summary>
internal static class JpegMarkers
{
    public const byte Sof0 = 0xC0, Sof1 = 0xC1, Sof2 = 0xC2, Dht = 0xC4, Soi = 0xD8, Eoi = 0xD9, Sos = 0xDA,
        Dqt = 0xDB, Dnl = 0xDC, Dri = 0xDD, App0 = 0xE0, App14 = 0xEE;

    /// <summary>
    /// Position of the <c>FF</c> that introduces the first marker at or after <paramref name="start"/>, skipping
    /// stuffed <c>FF 00</c> pairs, fill bytes and garbage (as libjpeg's <c>next_marker</c> does); <paramref name="end"/>
    /// when there is none.
    /// </summary>
    public static int FindMarker(byte[] data, int start, int end)
    {
        for (var p = start; p + 1 < end; p++)
        {
            if (data[p] != 0xFF)
                continue;
            var code = data[p + 1];
            if (code == 0xFF)
                continue; // fill byte; the marker starts at a later FF
            if (code != 0x00)
                return p;
            p++; // stuffed FF 00
        }
        return end;
    }
}
