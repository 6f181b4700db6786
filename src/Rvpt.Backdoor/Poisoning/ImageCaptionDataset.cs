using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Image-caption pairs from a CSV or TSV file (columns: image path, caption; an optional header line whose first cell
/// is "path", "image", "filepath" or "filename"; relative paths resolve against the file's folder), or in memory.
/// </summary>
public sealed class ImageCaptionDataset : IImageCaptionSource, IDisposable
{
    private readonly string[] _captions;
    private readonly string[]? _paths;
    private readonly Tensor? _images;
    private readonly ClipImageProcessor? _processor;

    private ImageCaptionDataset(string[] captions, string[]? paths, Tensor? images, ClipImageProcessor? processor)
    {
        _captions = captions;
        _paths = paths;
        _images = images;
        _processor = processor;
    }

    /// <summary>Reads pairs from a CSV (comma) or TSV (tab, by extension <c>.tsv</c>) file. Quoted CSV cells are supported.</summary>
    /// <exception cref="FileNotFoundException">The file or a listed image is missing.</exception>
    /// <exception cref="InvalidDataException">A line does not have two cells.</exception>
    public static ImageCaptionDataset FromFile(string path, ClipImageProcessor processor)
    {
        ArgumentNullException.ThrowIfNull(processor);
        if (!File.Exists(path)) throw new FileNotFoundException($"Caption file not found: {path}", path);
        char sep = path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var root = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var paths = new List<string>();
        var captions = new List<string>();
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var cells = Split(lines[i], sep);
            if (cells.Count < 2) throw new InvalidDataException($"{path}:{i + 1}: expected '<image path>{(sep == '\t' ? "<TAB>" : ",")}<caption>', got '{lines[i]}'.");
            if (paths.Count == 0 && captions.Count == 0 && cells[0].Trim().ToLowerInvariant() is "path" or "image" or "filepath" or "filename") continue;
            var image = Path.GetFullPath(Path.Combine(root, cells[0].Trim()));
            if (!File.Exists(image)) throw new FileNotFoundException($"{path}:{i + 1}: image not found: {image}", image);
            paths.Add(image);
            captions.Add(string.Join(sep, cells.Skip(1)).Trim());
        }
        if (paths.Count == 0) throw new InvalidDataException($"{path}: no image-caption pairs.");
        return new ImageCaptionDataset(captions.ToArray(), paths.ToArray(), null, processor);
    }

    /// <summary>In-memory pairs: images <c>[N, 3, H, W]</c> in [0, 1] (copied) and N captions.</summary>
    public static ImageCaptionDataset FromTensors(Tensor images, IReadOnlyList<string> captions)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(captions);
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[0] != captions.Count)
            throw new ArgumentException($"Expected images [{captions.Count}, 3, H, W], got [{string.Join(", ", images.shape)}].", nameof(images));
        return new ImageCaptionDataset(captions.ToArray(), null, images.detach().to_type(ScalarType.Float32).cpu().clone().DetachFromDisposeScope(), null);
    }

    /// <inheritdoc />
    public int Count => _captions.Length;

    /// <inheritdoc />
    public string GetCaption(int index) => _captions[index];

    /// <inheritdoc />
    public string Describe(int index) => _paths?[index] ?? $"pair {index}";

    /// <inheritdoc />
    public Tensor LoadPixels01(int index)
    {
        if (_images is not null) return _images[index].clone();
        using var image = _processor!.Decode(_paths![index]);
        return _processor.ToPixels01(image);
    }

    /// <inheritdoc />
    public void Dispose() => _images?.Dispose();

    private static List<string> Split(string line, char sep)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (sep == ',' && c == '"')
            {
                if (quoted && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else quoted = !quoted;
            }
            else if (c == sep && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
