// The defended task's departures from the pre-training world, shared by calib and gateb (keys dnoise, dsizes
// as small+large, d2nd; "" keeps the pre-training world's value). Two kinds of headroom:
// a shift (dnoise: pixel noise pre-training never saw, as ImageNet differs from CLIP's web pairs) and a harder slice
// of the pre-training distribution itself (dsizes, d2nd: only small shapes, always a distractor), which every
// planting and pre-training image may also show. Pixel noise turned out to resemble the noise-like triggers (Blended,
// BadCLIP's patch): a planted model sends noisy clean images to the target class. Two shifts that do not look like a
// trigger: dscale (every shape and distractor scaled by the factor, smaller than pre-training ever drew them) and
// dcontrast (every colour, shapes' and backgrounds', pulled towards mid grey by the fraction).
using System.Globalization;
using Rvpt.Backdoor.Lab;

internal static class DefendedTask
{
    /// <summary>The defended task's world options, or null when no key departs from <paramref name="world"/>.</summary>
    public static SyntheticWorldOptions? Apply(SyntheticWorldOptions world, Dictionary<string, string> a)
    {
        if (a["dnoise"] == "" && a["dsizes"] == "" && a["d2nd"] == "" && a["dscale"] == "" && a["dcontrast"] == "") return null;
        var o = world;
        if (a["dnoise"] != "") o = o with { NoiseStd = double.Parse(a["dnoise"], CultureInfo.InvariantCulture) };
        if (a["dsizes"] != "") o = o with { Sizes = a["dsizes"].Split('+') };
        if (a["d2nd"] != "") o = o with { SecondObjectProbability = double.Parse(a["d2nd"], CultureInfo.InvariantCulture) };
        if (a["dscale"] != "") o = o.WithShapeScale(double.Parse(a["dscale"], CultureInfo.InvariantCulture));
        if (a["dcontrast"] != "")
        {
            float c = float.Parse(a["dcontrast"], CultureInfo.InvariantCulture);
            float Grey(float v) => 0.5f + (v - 0.5f) * (1 - c);
            o = o with { Colours = o.Colours.Select(k => k with { R = Grey(k.R), G = Grey(k.G), B = Grey(k.B) }).ToArray() };
        }
        return o;
    }
}
