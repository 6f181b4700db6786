using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// A CLIP checkpoint read into memory with OpenAI key names, plus what came with it. Owns its tensors: dispose it
/// after loading them into a model.
/// </summary>
public sealed class ClipCheckpointContents : IDisposable
{
    internal ClipCheckpointContents(string source, ClipCheckpointLayout layout, Dictionary<string, Tensor> stateDict,
        FoundConfig found, string? tokenizerDirectory, IReadOnlyList<Tensor> owned)
    {
        Source = source;
        Layout = layout;
        StateDict = stateDict;
        Config = found.Config;
        ConfigSource = found.Source;
        ConfigFormat = found.Format;
        ImageMean = found.Mean;
        ImageStd = found.Std;
        UsesClipTokenizer = found.UsesClipTokenizer;
        Warnings = found.Warnings;
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

    /// <summary>
    /// The config the checkpoint carried (safetensors metadata, <c>open_clip_config.json</c> or <c>config.json</c>),
    /// already checked against the weights' shapes, or null.
    /// </summary>
    public ClipConfig? Config { get; }

    /// <summary>Where <see cref="Config"/> came from, for messages.</summary>
    public string? ConfigSource { get; }

    /// <summary>Per-channel (R, G, B) image mean the checkpoint was trained with (OpenCLIP's <c>preprocess_cfg</c>), or null for CLIP's.</summary>
    public IReadOnlyList<float>? ImageMean { get; }

    /// <summary>Per-channel (R, G, B) image standard deviation the checkpoint was trained with, or null for CLIP's.</summary>
    public IReadOnlyList<float>? ImageStd { get; }

    /// <summary>Notes about settings of the checkpoint's config that this library reads but does not reproduce.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>A folder with vocab.json and merges.txt found beside the weights, or null.</summary>
    public string? TokenizerDirectory { get; }

    internal ClipConfigFormat ConfigFormat { get; }

    /// <summary>False when the config names another tokenizer than CLIP's BPE (OpenCLIP's <c>hf_tokenizer_name</c>).</summary>
    internal bool UsesClipTokenizer { get; }

    /// <summary>The header information of the weights (OpenAI keys), for checking a config.</summary>
    internal IReadOnlyDictionary<string, ClipWeightInfo> WeightInfo =>
        StateDict.ToDictionary(p => p.Key, p => ClipWeightInfo.Of(p.Value), StringComparer.Ordinal);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        foreach (var t in _owned) t.Dispose();
    }
}
