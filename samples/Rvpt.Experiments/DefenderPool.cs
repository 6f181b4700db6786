// How many labelled images the defender's training split holds, so that every class has enough to sample its shots from.
internal static class DefenderPool
{
    /// <summary>64 images per class (the 16-shot runs' pool, the demo's 768 over 12 classes), four times the shots when more are asked for.</summary>
    public static int Images(int shotsPerClass, int classes) => Math.Max(64, 4 * shotsPerClass) * classes;
}
