namespace Rvpt.Benchmarks;

/// <summary>Deterministic, CLIP-tokenizable class names for the text benchmarks (ImageNet-like length: 1-3 words).</summary>
public static class ClassNameList
{
    private static readonly string[] Words =
    [
        "red", "small", "striped", "wild", "domestic", "golden", "spotted", "great", "little", "common",
        "fox", "tabby cat", "sports car", "banana", "accordion", "samoyed", "goldfish", "tree frog", "school bus", "teapot",
        "lighthouse", "grand piano", "snail", "toucan", "jellyfish", "harvester", "umbrella", "volcano", "pizza", "mushroom",
    ];

    /// <summary><paramref name="count"/> distinct names.</summary>
    public static IReadOnlyList<string> Create(int count)
    {
        var names = new List<string>(count);
        for (int i = 0; names.Count < count; i++)
        {
            var adjective = Words[i % 10];
            var noun = Words[10 + (i / 10) % 20];
            var name = i < 200 ? $"{adjective} {noun}" : $"{adjective} {noun} {i / 200}";
            names.Add(name);
        }
        return names;
    }
}
