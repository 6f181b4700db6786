using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// A folder of built models keyed by the settings that produced them. Each entry is a Hugging Face-layout CLIP folder
/// (<c>model.safetensors</c>, <c>config.json</c>, <c>vocab.json</c>, <c>merges.txt</c>) plus <c>settings.json</c>, named
/// <c>{name}-{hash}</c> where the hash covers the settings text and <see cref="RecipeVersion"/>. An entry is built in a
/// temporary folder and renamed into place only when complete, so an interrupted build never leaves a half entry; a
/// later request with the same settings reuses it.
/// </summary>
public sealed class SyntheticModelStore
{
    /// <summary>
    /// Version of the code that builds store entries (world renderer, recipes). It is part of every entry's key, so
    /// entries built by older code are not reused after a change that alters the models.
    /// </summary>
    public const int RecipeVersion = 1;

    private readonly ILogger _logger;

    /// <summary>Creates a store rooted at <paramref name="root"/> (created when missing).</summary>
    public SyntheticModelStore(string root, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The store's folder.</summary>
    public string Root { get; }

    /// <summary>
    /// The default root: <c>$RVPT_CACHE</c> when set, else <c>$XDG_CACHE_HOME/rvpt</c>, else <c>~/.cache/rvpt</c>
    /// (on Windows <c>%LOCALAPPDATA%\rvpt</c>).
    /// </summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("RVPT_CACHE") is { Length: > 0 } explicitRoot) return explicitRoot;
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "rvpt");
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var baseDir = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDir, "rvpt");
    }

    /// <summary>The folder of entry <paramref name="name"/> built with <paramref name="settings"/> (it may not exist yet).</summary>
    public string EntryPath(string name, string settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(settings);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{RecipeVersion}\n{settings}"));
        return Path.Combine(Root, $"{name}-{Convert.ToHexString(hash, 0, 6).ToLowerInvariant()}");
    }

    /// <summary>True when entry <paramref name="name"/> with <paramref name="settings"/> is complete.</summary>
    public bool Contains(string name, string settings) => IsComplete(EntryPath(name, settings), settings);

    /// <summary>
    /// Loads entry <paramref name="name"/> built with <paramref name="settings"/>, or calls <paramref name="build"/>,
    /// saves its model as the entry and returns it. <paramref name="build"/> gets a scratch folder (for tokenizer files)
    /// that becomes part of the entry.
    /// </summary>
    public ClipModel GetOrBuild(string name, string settings, Func<string, ClipModel> build, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        var path = EntryPath(name, settings);
        if (IsComplete(path, settings))
        {
            _logger.LogInformation("Reusing {Name} from {Path}.", name, path);
            return ClipModel.FromPretrained(path, device);
        }

        Directory.CreateDirectory(Root);
        var scratch = Path.Combine(Root, $".building-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            using (var built = build(scratch))
            {
                ClipCheckpoint.Save(built, scratch, ClipCheckpointLayout.HuggingFace);
            }
            AtomicFile.WriteAllText(Path.Combine(scratch, "settings.json"), settings);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true); // an incomplete or stale entry
            Directory.Move(scratch, path);
            _logger.LogInformation("Saved {Name} to {Path}.", name, path);
        }
        catch
        {
            TryDelete(scratch);
            throw;
        }
        return ClipModel.FromPretrained(path, device);
    }

    private static bool IsComplete(string path, string settings)
    {
        var settingsFile = Path.Combine(path, "settings.json");
        return File.Exists(settingsFile) && File.Exists(Path.Combine(path, "model.safetensors"))
            && File.ReadAllText(settingsFile) == settings;
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a scratch folder left behind is ignored by later runs
        }
    }
}
