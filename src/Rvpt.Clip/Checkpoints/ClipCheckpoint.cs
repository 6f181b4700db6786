using System.Collections;
using System.IO.Compression;
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

    /// <summary>Reads a checkpoint into memory (OpenAI keys), without building a model.</summary>
    /// <exception cref="FileNotFoundException">The path does not exist or a folder holds no known weights file.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable CLIP checkpoint; the message says why.</exception>
    public static ClipCheckpointContents Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string weights;
        string folder;
        if (Directory.Exists(path))
        {
            folder = path;
            weights = FolderWeightFiles.Select(f => Path.Combine(path, f)).FirstOrDefault(File.Exists)
                      ?? Directory.EnumerateFiles(path, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault()
                      ?? throw new FileNotFoundException(
                          $"{path}: no CLIP weights found (looked for {string.Join(", ", FolderWeightFiles)} or any *.safetensors).");
        }
        else if (File.Exists(path))
        {
            weights = path;
            folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        }
        else
        {
            throw new FileNotFoundException($"CLIP checkpoint not found: {path}", path);
        }

        IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
        Dictionary<string, Tensor> raw = weights switch
        {
            _ when weights.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase) => LoadSharded(weights),
            _ when weights.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) => SafetensorsFile.Load(weights, null, out metadata),
            _ => LoadPickle(weights),
        };

        var owned = new List<Tensor>();
        try
        {
            raw = ClipStateDictConverter.StripModulePrefix(raw);
            var layout = ClipStateDictConverter.DetectLayout(raw.Keys, weights);
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

            ClipConfig? config = null;
            string? configSource = null;
            if (metadata.TryGetValue("config", out var metaJson))
            {
                configSource = weights + " (__metadata__.config)";
                config = ClipConfig.FromMetadataJson(metaJson, configSource);
            }
            else if (File.Exists(Path.Combine(folder, "config.json")) && layout == ClipCheckpointLayout.HuggingFace)
            {
                configSource = Path.Combine(folder, "config.json");
                config = ClipConfig.FromHuggingFaceFile(configSource);
            }

            var tokenizerDir = File.Exists(Path.Combine(folder, "vocab.json")) && File.Exists(Path.Combine(folder, "merges.txt")) ? folder : null;
            return new ClipCheckpointContents(weights, layout, openai, config, configSource, tokenizerDir, owned);
        }
        catch
        {
            foreach (var t in raw.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies <paramref name="contents"/> into <paramref name="model"/> after checking that the keys and shapes match
    /// exactly; converts dtype and device. Throws an <see cref="InvalidDataException"/> (see <see cref="ClipCheckpointMismatch"/>) listing every problem, in
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
            .Select(p => (p.Key, p.Value.shape, provided[p.Key].shape)).OrderBy(x => x.Key, StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || mismatched.Count > 0)
            throw ClipCheckpointMismatch.Create(source, missing, unexpected, mismatched);

        var bad = provided.Where(p => !p.Value.is_floating_point()).Select(p => $"{p.Key} ({p.Value.dtype})").ToList();
        if (bad.Count > 0)
            throw new InvalidDataException($"{source}: weights must be floating point; found {string.Join(", ", bad)}.");

        using var noGrad = no_grad();
        foreach (var (key, target) in expected)
            target.copy_(provided[key]);
    }

    /// <summary>
    /// Saves <paramref name="model"/>'s weights as safetensors, atomically. OpenAI layout: one file whose
    /// <c>__metadata__</c> holds the config. Hugging Face layout: when <paramref name="path"/> ends in
    /// <c>.safetensors</c>, one file (config in metadata); otherwise a folder with <c>model.safetensors</c> and
    /// <c>config.json</c>. Tokenizer files of the model's source folder are copied into an HF folder when present.
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
            });
            return;
        }

        var hf = ClipStateDictConverter.OpenAIToHuggingFace(stateDict);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            SafetensorsFile.Save(path, hf, new Dictionary<string, string>
            {
                ["format"] = "pt", ["layout"] = "hf-transformers-CLIPModel", ["config"] = model.Config.ToHuggingFaceJson(),
            });
            return;
        }
        Directory.CreateDirectory(path);
        SafetensorsFile.Save(Path.Combine(path, "model.safetensors"), hf, new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(path, "config.json"), model.Config.ToHuggingFaceJson());
        if (model.TokenizerDirectory is { } dir && !SameFolder(dir, path))
        {
            foreach (var f in new[] { "vocab.json", "merges.txt" })
            {
                using var source = File.OpenRead(Path.Combine(dir, f));
                AtomicFile.Write(Path.Combine(path, f), source.CopyTo);
            }
        }
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd('/', '\\'), Path.GetFullPath(b).TrimEnd('/', '\\'), StringComparison.Ordinal);

    private static Dictionary<string, Tensor> LoadSharded(string indexPath)
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
        var byShard = map.EnumerateObject().GroupBy(p => p.Value.GetString() ?? "", p => p.Name, StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var shard in byShard)
            {
                var shardPath = Path.Combine(folder, shard.Key);
                if (!File.Exists(shardPath)) throw new FileNotFoundException($"{indexPath}: shard '{shard.Key}' listed in weight_map is missing.", shardPath);
                var wanted = new HashSet<string>(shard, StringComparer.Ordinal);
                var loaded = SafetensorsFile.Load(shardPath, wanted.Contains);
                var absent = wanted.Where(k => !loaded.ContainsKey(k)).ToList();
                foreach (var (k, t) in loaded) result[k] = t;
                if (absent.Count > 0)
                    throw new InvalidDataException($"{shardPath}: tensors listed in {Path.GetFileName(indexPath)} are missing from the shard: {string.Join(", ", absent)}.");
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private static Dictionary<string, Tensor> LoadPickle(string path)
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
        using (var zip = ZipFile.OpenRead(path))
        {
            if (zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.FullName.Contains("/code/", StringComparison.Ordinal)))
                throw new InvalidDataException(
                    $"{path}: this is a TorchScript (JIT) archive, such as OpenAI's original CLIP download; it can carry code and is not read. " +
                    "Convert it once in Python: model, _ = clip.load(path, jit=False); torch.save(model.state_dict(), 'clip.pt') " +
                    "(or save it with safetensors.torch.save_file).");
        }

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
