// The defended task's departures from the pre-training world, shared by calib and gateb (keys dnoise, dsizes
// as small+large, d2nd; "" keeps the pre-training world's value). Two kinds of headroom:
// a shift (dnoise: pixel noise pre-training never saw, as ImageNet differs from CLIP's web pairs) and a harder slice
// of the pre-training distribution itself (dsizes, d2nd: only small shapes, always a distractor), which every
// planting and pre-training image may also show.
using System.Globalization;
using Rvpt.Backdoor.Lab;

internal static class DefendedTask
{
    /// <summary>The defended task's world options, or null when no key departs from <paramref name="world"/>.</summary>
    public static SyntheticWorldOptions? Apply(SyntheticWorldOptions world, Dictionary<string, string> a)
    {
        if (a["dnoise"] == "" && a["dsizes"] == "" && a["d2nd"] == "") return null;
        var o = world;
        if (a["dnoise"] != "") o = o with { NoiseStd = double.Parse(a["dnoise"], CultureInfo.InvariantCulture) };
        if (a["dsizes"] != "") o = o with { Sizes = a["dsizes"].Split('+') };
        if (a["d2nd"] != "") o = o with { SecondObjectProbability = double.Parse(a["d2nd"], CultureInfo.InvariantCulture) };
        return o;
    }
}
