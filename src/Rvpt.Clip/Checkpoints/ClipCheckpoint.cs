using System.Collections;
using System.Text.Json;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Detects, reads, validates, loads and saves CLIP checkpoints: OpenAI/OpenCLIP layout (<c>.safetensors</c>, or
/// zip-format <c>torch.save</c> <c>.pt</c>/<c>.bin</c>) and Hugging Face layout (a model folder, sharded or not, or
/// its files directly).
/// </summary>
public static class ClipCheckpoint
{
    private static readonly string[] FolderWeightFiles =
    {
        "model.safetensors", "model.safetensors.index.json", "open_clip_model.safetensors", "pytorch_model.bin",
        "open_clip_pytorch_model.bin",
    };

    /// <summary>
    /// Reads a checkpoint into memory (OpenAI keys), without building a model. The config that comes with it — a
    /// safetensors <c>__metadata__["config"]</c>, OpenCLIP's <c>open_clip_config.json</c> beside OpenAI-layout weights,
    /// or a Hugging Face <c>config.json</c> beside HF-layout weights — is checked against the weights' names, shapes and
    /// dtypes (from the file headers, before any tensor data is read, for safetensors) and the read fails if they disagree.
    /// </summary>
    /// <param name="path">A weights file or a model folder.</param>
    /// <param name="allowTorchScript">
    /// Whether to read a TorchScript archive (such as OpenAI's original <c>ViT-B-32.pt</c>) with libtorch's TorchScript
    /// loader. Such archives are programs: loading one compiles its code and may run a scripted <c>__setstate__</c>.
    /// Default false: they are refused with a message that names this option.
    /// </param>
    /// <exception cref="FileNotFoundException">The path does not exist or a folder holds no known weights file.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable CLIP checkpoint; the message says why.</exception>
    /// <exception cref="ClipCheckpointMismatchException">Its config disagrees with its weights; the message and the
    /// exception's lists say where.</exception>
    public static ClipCheckpointContents Read(string path, bool allowTorchScript = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var (weights, folder) = Locate(path);

        // Header information first, so a config can be checked before tensor data is read. Pickles and TorchScript
        // archives have no separate header: they are loaded (their size is the file's) and checked before a model exists.
        IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
        Dictionary<string, ClipWeightInfo> headers;
        Dictionary<string, Tensor>? raw = null;
        if (weights.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase))
        {
            headers = ShardHeaders(weights);
        }
        else if (weights.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var header = SafetensorsFile.ReadHeader(weights);
            metadata = header.Metadata;
            headers = header.Entries.ToDictionary(e => e.Name, e => new ClipWeightInfo(e.Shape, e.ScalarType), StringComparer.Ordinal);
        }
        else
        {
            raw = LoadPickleOrTorchScript(weights, allowTorchScript);
            headers = raw.ToDictionary(p => p.Key, p => ClipWeightInfo.Of(p.Value), StringComparer.Ordinal);
        }

        var owned = new List<Tensor>();
        try
        {
            headers = ClipStateDictConverter.StripModulePrefix(headers);
            var layout = ClipStateDictConverter.DetectLayout(headers.Keys, weights);
            var openaiHeaders = layout == ClipCheckpointLayout.HuggingFace ? ClipStateDictConverter.HuggingFaceToOpenAI(headers) : headers;
            var found = ClipCheckpointConfigFinder.Find(weights, folder, metadata, layout);
            if (found.Config is not null)
                ClipConfigWeightsCheck.Check(found.Config, openaiHeaders, weights, found.Format, found.Source!);

            raw ??= weights.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase) ? LoadSharded(weights) : SafetensorsFile.Load(weights);
            raw = ClipStateDictConverter.StripModulePrefix(raw);
            Dictionary<string, Tensor> openai;
            if (layout == ClipCheckpointLayout.HuggingFace)
            {
                openai = ClipStateDictConverter.HuggingFaceToOpenAI(raw);
                var reused = new HashSet<IntPtr>(openai.Values.Select(t => t.Handle));
                owned.AddRange(raw.Values.Where(t => !reused.Contains(t.Handle))); // q/k/v parts etc. stay alive until disposal
            }
            else
            {
                openai = raw;
            }

            var tokenizerDir = File.Exists(Path.Combine(folder, "vocab.json")) && File.Exists(Path.Combine(folder, "merges.txt")) ? folder : null;
            return new ClipCheckpointContents(weights, layout, openai, found, tokenizerDir, owned);
        }
        catch
        {
            if (raw is not null) foreach (var t in raw.Values) t.Dispose();
            foreach (var t in owned) t.Dispose();
            throw;
        }
    }

    private static (string Weights, string Folder) Locate(string path)
    {
        if (Directory.Exists(path))
        {
            var weights = FolderWeightFiles.Select(f => Path.Combine(path, f)).FirstOrDefault(File.Exists)
                          ?? Directory.EnumerateFiles(path, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault()
                          ?? throw new FileNotFoundException(
                              $"{path}: no CLIP weights found (looked for {string.Join(", ", FolderWeightFiles)} or any *.safetensors).");
            return (weights, path);
        }
        if (File.Exists(path)) return (path, Path.GetDirectoryName(Path.GetFullPath(path))!);
        throw new FileNotFoundException($"CLIP checkpoint not found: {path}", path);
    }

    /// <summary>
    /// Copies <paramref name="contents"/> into <paramref name="model"/> after checking that the keys and shapes match
    /// exactly; converts dtype and device. Throws a <see cref="ClipCheckpointMismatchException"/> listing every problem, in
    /// which case nothing was copied.
    /// </summary>
    public static void LoadInto(ClipModel model, ClipCheckpointContents contents)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(contents);
        LoadInto(model, contents.StateDict, contents.Source);
    }

    /// <summary>Strictly loads an OpenAI-keyed state dict into <paramref name="model"/>; see <see cref="LoadInto(ClipModel, ClipCheckpointContents)"/>.</summary>
    public static void LoadInto(ClipModel model, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var expected = model.state_dict();
        var provided = stateDict.Where(p => !ClipStateDictConverter.IgnoredOpenAIKeys.Contains(p.Key))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var missing = expected.Keys.Where(k => !provided.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = provided.Keys.Where(k => !expected.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var mismatched = expected.Where(p => provided.TryGetValue(p.Key, out var t) && !t.shape.SequenceEqual(p.Value.shape))
            .Select(p => new ClipShapeMismatch(p.Key, p.Value.shape, provided[p.Key].shape)).OrderBy(x => x.Key, StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || mismatched.Count > 0)
            throw new ClipCheckpointMismatchException(source, missing, unexpected, mismatched);

        var bad = provided.Where(p => !p.Value.is_floating_point()).Select(p => $"{p.Key} ({p.Value.dtype})").ToList();
        if (bad.Count > 0)
            throw new InvalidDataException($"{source}: weights must be floating point; found {string.Join(", ", bad)}.");
        CheckArchitectureScalars(model.Config, stateDict, source);

        using var noGrad = no_grad();
        foreach (var (key, target) in expected)
            target.copy_(provided[key]);
    }

    /// <summary>
    /// OpenAI's checkpoints (their TorchScript archives, and state dicts taken from them) carry the architecture's
    /// <c>input_resolution</c>, <c>context_length</c> and <c>vocab_size</c> as int64 scalars beside the weights; OpenAI's
    /// <c>build_model</c> drops them. They are not loaded, but when present they must agree with the config.
    /// </summary>
    private static void CheckArchitectureScalars(ClipConfig config, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        foreach (var (key, expected) in new[]
                 {
                     ("input_resolution", config.Vision.ImageSize), ("context_length", config.Text.ContextLength), ("vocab_size", config.Text.VocabSize),
                 })
        {
            if (!stateDict.TryGetValue(key, out var t)) continue;
            if (t.numel() != 1 || t.is_floating_point() || t.dtype == ScalarType.Bool)
                throw new InvalidDataException($"{source}: '{key}' should be one integer, found {t.dtype} [{string.Join(", ", t.shape)}].");
            var value = t.cpu().to_type(ScalarType.Int64).item<long>();
            if (value != expected)
                throw new InvalidDataException($"{source}: '{key}' is {value}, but the model's config has {expected}.");
        }
    }

    /// <summary>
    /// Saves <paramref name="model"/>'s weights as safetensors, atomically. OpenAI layout: one file whose
    /// <c>__metadata__</c> holds the config. Hugging Face layout: when <paramref name="path"/> ends in
    /// <c>.safetensors</c>, one file (config in metadata); otherwise a folder with <c>model.safetensors</c> and
    /// <c>config.json</c>. The model's tokenizer goes into an HF folder as <c>vocab.json</c> and <c>merges.txt</c>
    /// (its source files copied, or written from the vocabulary when it has none, e.g. the bundled one). The image
    /// normalisation (mean, std) is kept in <c>__metadata__["preprocess_cfg"]</c> in OpenCLIP's form. Weights are
    /// written in the model's dtype: load a model with <see cref="ClipModelBuilder.WithDType"/> float16 to save a
    /// half-precision file.
    /// </summary>
    public static void Save(ClipModel model, string path, ClipCheckpointLayout layout = ClipCheckpointLayout.OpenAI)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var scope = NewDisposeScope();
        var stateDict = model.state_dict();
        if (layout == ClipCheckpointLayout.OpenAI)
        {
            SafetensorsFile.Save(path, stateDict, new Dictionary<string, string>
            {
                ["format"] = "pt", ["layout"] = "openai-clip", ["config"] = model.Config.ToMetadataJson(),
                [ClipCheckpointConfigFinder.PreprocessMetadataKey] = ClipCheckpointConfigFinder.NormalisationJson(model.ImageProcessor.Options),
            });
            return;
        }

        var hf = ClipStateDictConverter.OpenAIToHuggingFace(stateDict);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            SafetensorsFile.Save(path, hf, new Dictionary<string, string>
            {
                ["format"] = "pt", ["layout"] = "hf-transformers-CLIPModel", ["config"] = model.Config.ToHuggingFaceJson(),
                [ClipCheckpointConfigFinder.PreprocessMetadataKey] = ClipCheckpointConfigFinder.NormalisationJson(model.ImageProcessor.Options),
            });
            return;
        }
        Directory.CreateDirectory(path);
        SafetensorsFile.Save(Path.Combine(path, "model.safetensors"), hf, new Dictionary<string, string>
        {
            ["format"] = "pt", [ClipCheckpointConfigFinder.PreprocessMetadataKey] = ClipCheckpointConfigFinder.NormalisationJson(model.ImageProcessor.Options),
        });
        AtomicFile.WriteAllText(Path.Combine(path, "config.json"), model.Config.ToHuggingFaceJson());
        if (model.TokenizerDirectory is { } dir)
        {
            if (!SameFolder(dir, path))
            {
                foreach (var f in new[] { "vocab.json", "merges.txt" })
                {
                    using var source = File.OpenRead(Path.Combine(dir, f));
                    AtomicFile.Write(Path.Combine(path, f), source.CopyTo);
                }
            }
        }
        else if (model.Tokenizer is { } tokenizer)
        {
            // No files to copy (the bundled vocabulary, or one built in memory): write the vocabulary in HF's format.
            tokenizer.WriteVocabulary(path);
        }
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd('/', '\\'), Path.GetFullPath(b).TrimEnd('/', '\\'), StringComparison.Ordinal);

    /// <summary>The shards of a sharded checkpoint and the tensor names each one holds, from its index file.</summary>
    private static List<(string Shard, HashSet<string> Names)> ShardMap(string indexPath)
    {
        JsonElement map;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var wm) || wm.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath}: sharded index has no 'weight_map' object.");
            map = wm.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{indexPath}: malformed JSON: {e.Message}", e);
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var result = new List<(string, HashSet<string>)>();
        foreach (var shard in map.EnumerateObject().GroupBy(p => p.Value.GetString() ?? "", p => p.Name, StringComparer.Ordinal))
        {
            var shardPath = Path.Combine(folder, shard.Key);
            if (!File.Exists(shardPath)) throw new FileNotFoundException($"{indexPath}: shard '{shard.Key}' listed in weight_map is missing.", shardPath);
            result.Add((shardPath, new HashSet<string>(shard, StringComparer.Ordinal)));
        }
        return result;
    }

    private static Dictionary<string, ClipWeightInfo> ShardHeaders(string indexPath)
    {
        var result = new Dictionary<string, ClipWeightInfo>(StringComparer.Ordinal);
        foreach (var (shard, names) in ShardMap(indexPath))
        {
            var entries = SafetensorsFile.ReadHeader(shard).Entries.Where(e => names.Contains(e.Name)).ToList();
            var absent = names.Except(entries.Select(e => e.Name)).ToList();
            if (absent.Count > 0)
                throw new InvalidDataException($"{shard}: tensors listed in {Path.GetFileName(indexPath)} are missing from the shard: {string.Join(", ", absent)}.");
            foreach (var e in entries) result[e.Name] = new ClipWeightInfo(e.Shape, e.ScalarType);
        }
        return result;
    }

    private static Dictionary<string, Tensor> LoadSharded(string indexPath)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (shard, names) in ShardMap(indexPath))
                foreach (var (k, t) in SafetensorsFile.Load(shard, names.Contains)) result[k] = t;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private static Dictionary<string, Tensor> LoadPickleOrTorchScript(string path, bool allowTorchScript)
    {
        var head = new byte[4];
        using (var fs = File.OpenRead(path))
        {
            if (fs.Read(head, 0, 4) < 4)
                throw new InvalidDataException($"{path}: the file is {fs.Length} bytes, too short for a checkpoint.");
        }
        if (head[0] != (byte)'P' || head[1] != (byte)'K')
            throw new InvalidDataException(
                $"{path}: not a zip-format torch.save checkpoint (legacy pickle or unknown format). Re-save it in Python with " +
                "torch.save(state_dict, path) on PyTorch >= 1.6, or convert it to safetensors.");
        if (!TorchScriptArchive.Is(path)) return LoadPickle(path);
        if (!allowTorchScript)
            throw new InvalidDataException(
                $"{path}: this is a TorchScript (JIT) archive, such as OpenAI's original CLIP download. Such an archive is a program: " +
                "loading it compiles its code and may run it, so it is read only on request. If you trust the file, opt in with " +
                "new ClipModelBuilder().FromCheckpoint(path).AllowTorchScript().Build() (or ClipCheckpoint.Read(path, allowTorchScript: true)), " +
                "then save the model with ClipCheckpoint.Save(model, \"model.safetensors\") so that the opt-in is needed only once.");
        return TorchScriptArchive.ReadWeights(path);
    }

    private static Dictionary<string, Tensor> LoadPickle(string path)
    {
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: cannot read the torch.save checkpoint: {e.Message}", e);
        }
        if (table["state_dict"] is Hashtable inner) table = inner; // OpenCLIP training checkpoints wrap the weights
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var skipped = new List<string>();
        foreach (DictionaryEntry entry in table)
        {
            var key = entry.Key?.ToString() ?? "";
            if (entry.Value is Tensor t) result[key] = t;
            else if (ClipStateDictConverter.IgnoredOpenAIKeys.Contains(key.StartsWith("module.", StringComparison.Ordinal) ? key[7..] : key)) continue;
            else skipped.Add(key);
        }
        if (skipped.Count > 0)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new InvalidDataException($"{path}: entries that are not tensors: {string.Join(", ", skipped)}.");
        }
        return result;
    }
}
