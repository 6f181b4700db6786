using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// A CLIP checkpoint read into memory with OpenAI key names, plus what came with it. Owns its tensors: dispose it
/// after loading them into a model.
/// </summary>
public sealed class ClipCheckpointContents : IDisposable
{
    internal ClipCheckpointContents(string source, ClipCheckpointLayout layout, Dictionary<string, Tensor> stateDict,
        ClipConfig? config, string? configSource, string? tokenizerDirectory, IReadOnlyList<Tensor> owned)
    {
        Source = source;
        Layout = layout;
        StateDict = stateDict;
        Config = config;
        ConfigSource = configSource;
        TokenizerDirectory = tokenizerDirectory;
        _owned = owned;
    }

    private readonly IReadOnlyList<Tensor> _owned;

    /// <summary>The path that was read.</summary>
    public string Source { get; }

    /// <summary>The layout the file used (tensors here always use OpenAI keys).</summary>
    public ClipCheckpointLayout Layout { get; }

    /// <summary>Weights under OpenAI key names, in the file's dtypes, on the CPU.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict { get; }

    /// <summary>The config the checkpoint carried (safetensors metadata or config.json), or null.</summary>
    public ClipConfig? Config { get; }

    /// <summary>Where <see cref="Config"/> came from, for messages.</summary>
    public string? ConfigSource { get; }

    /// <summary>A folder with vocab.json and merges.txt found beside the weights, or null.</summary>
    public string? TokenizerDirectory { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        foreach (var t in _owned) t.Dispose();
    }
}
