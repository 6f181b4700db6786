namespace Rvpt.Clip.Tests;

/// <summary>Small architectures for fast tests (the fixture's shape, but with a small vocabulary).</summary>
internal static class TinyConfigs
{
    public static ClipConfig Clip { get; } = new()
    {
        EmbedDim = 32,
        Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 3, Heads = 2 },
        Text = new ClipTextConfig { ContextLength = 77, VocabSize = 500, Width = 32, Layers = 2, Heads = 2 },
    };
}
