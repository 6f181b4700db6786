using Rvpt.Clip;
using TorchSharp;

namespace Rvpt;

/// <summary>
/// Images in a folder with one sub-folder per class, like torchvision's <c>ImageFolder</c>:
/// <c>root/dog/001.jpg</c>, <c>root/cat/x/002.png</c>. Classes are the sub-folders in ordinal order; a class's images
/// are its files (searched recursively) with an image extension, in ordinal order of their relative paths. Images are
/// ordered by label, then path.
/// </summary>
/// <remarks>
/// Names starting with <c>.</c> are skipped (hidden folders such as <c>.ipynb_checkpoints</c> and macOS <c>._x.jpg</c>
/// metadata files, which would otherwise fail to decode). Only the listing is read when opening; images are decoded
/// by <see cref="LoadPixels01"/>, which is safe to call from several threads. The instance is immutable.
/// </remarks>
public sealed class ImageFolderDataset : ILabeledImageSource
{
    private readonly ClipImageProcessor processor;
    private readonly string[] paths;
    private readonly int[] labels;

    private ImageFolderDataset(string root, IReadOnlyList<string> classNames, IReadOnlyList<string> classFolders,
        string[] paths, int[] labels, ClipImageProcessor processor)
    {
        Root = root;
        ClassNames = classNames;
        ClassFolders = classFolders;
        this.paths = paths;
        this.labels = labels;
        this.processor = processor;
    }

    /// <summary>The root folder (full path).</summary>
    public string Root { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The class folders (full paths); <c>ClassFolders[i]</c> holds the images of label i.</summary>
    public IReadOnlyList<string> ClassFolders { get; }

    /// <inheritdoc />
    public int Count => paths.Length;

    /// <summary>Opens an image folder: lists the classes and files without decoding any image.</summary>
    /// <param name="root">Folder with one sub-folder per class.</param>
    /// <param name="processor">Decodes the images (its <see cref="ClipImageProcessorOptions.MaxPixels"/> guard applies).</param>
    /// <param name="options">Settings; <see langword="null"/> means the defaults.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist.</exception>
    /// <exception cref="FileNotFoundException"><see cref="ImageFolderOptions.ClassNamesFile"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">There are no class folders, a class folder has no images (unless allowed), or the class names do not fit the folders; the message names the folder or file.</exception>
    /// <exception cref="ArgumentException">An option is invalid, e.g. the folder-name map gives a blank or repeated name.</exception>
    public static ImageFolderDataset Open(string root, ClipImageProcessor processor, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(processor);
        options ??= new ImageFolderOptions();
        var extensions = ValidExtensions(options.Extensions);

        var fullRoot = Path.GetFullPath(root);
        if (!Directory.Exists(fullRoot))
            throw new DirectoryNotFoundException($"Image folder '{fullRoot}' does not exist (expected one sub-folder per class).");

        var folders = new DirectoryInfo(fullRoot).EnumerateDirectories()
            .Where(d => !IsHidden(d.Name))
            .Select(d => d.Name)
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (folders.Length == 0)
            throw new InvalidDataException($"Image folder '{fullRoot}' has no class sub-folders (expected one sub-folder per class, e.g. '{Path.Combine(fullRoot, "dog")}').");

        var folderNames = MapFolderNames(folders, options.FolderToClassName);
        var (classNames, labelOfFolder) = options.ClassNamesFile is null
            ? (folderNames, Enumerable.Range(0, folders.Length).ToArray())
            : MatchClassNamesFile(options.ClassNamesFile, folders, folderNames);

        var samples = new List<(int Label, string Relative, string Path)>();
        for (var f = 0; f < folders.Length; f++)
        {
            var folder = Path.Combine(fullRoot, folders[f]);
            var files = ListImages(folder, extensions);
            if (files.Count == 0 && !options.AllowEmptyClasses)
                throw new InvalidDataException(
                    $"Class folder '{folder}' has no images (looked for {string.Join(" ", extensions)}, case-insensitive); add images, remove the folder, or set {nameof(ImageFolderOptions)}.{nameof(ImageFolderOptions.AllowEmptyClasses)}.");
            samples.AddRange(files.Select(file => (labelOfFolder[f], Path.GetRelativePath(folder, file), file)));
        }
        // Label first, then ordinal relative path: the order does not depend on the file system's listing order.
        var ordered = samples
            .OrderBy(s => s.Label)
            .ThenBy(s => s.Relative, StringComparer.Ordinal)
            .ToArray();

        var classFolders = new string[folders.Length];
        for (var f = 0; f < folders.Length; f++)
            classFolders[labelOfFolder[f]] = Path.Combine(fullRoot, folders[f]);

        return new ImageFolderDataset(fullRoot, Array.AsReadOnly(classNames), Array.AsReadOnly(classFolders),
            ordered.Select(s => s.Path).ToArray(), ordered.Select(s => s.Label).ToArray(), processor);
    }

    /// <summary>The full path of an image file.</summary>
    /// <param name="index">Image index in <c>[0, Count)</c>.</param>
    /// <returns>The path.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public string GetPath(int index)
    {
        CheckIndex(index);
        return paths[index];
    }

    /// <inheritdoc />
    public int GetLabel(int index)
    {
        CheckIndex(index);
        return labels[index];
    }

    /// <inheritdoc />
    public string Describe(int index) => GetPath(index);

    /// <inheritdoc />
    public torch.Tensor LoadPixels01(int index)
    {
        using var image = processor.Decode(GetPath(index));
        var pixels01 = processor.ToPixels01(image);
        // The processor may be configured for another device or dtype; the source contract is float32 on the CPU.
        if (pixels01.dtype == torch.ScalarType.Float32 && pixels01.device_type == DeviceType.CPU)
            return pixels01;
        using (pixels01)
            return pixels01.to(torch.ScalarType.Float32, torch.CPU);
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)paths.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Image index must be in [0, {paths.Length}) for image folder '{Root}'.");
    }

    private static bool IsHidden(string name) => name.StartsWith('.');

    private static string[] ValidExtensions(IReadOnlyList<string> extensions)
    {
        ArgumentNullException.ThrowIfNull(extensions, nameof(ImageFolderOptions.Extensions));
        if (extensions.Count == 0 || extensions.Any(e => string.IsNullOrEmpty(e) || e[0] != '.'))
            throw new ArgumentException($"{nameof(ImageFolderOptions.Extensions)} must be a non-empty list of extensions starting with '.', got [{string.Join(", ", extensions)}].", nameof(extensions));
        return [.. extensions];
    }

    private static List<string> ListImages(string folder, string[] extensions)
    {
        var enumeration = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System, IgnoreInaccessible = false };
        return Directory.EnumerateFiles(folder, "*", enumeration)
            .Where(file => !IsHidden(Path.GetFileName(file))
                && !Path.GetRelativePath(folder, file).Split(Path.DirectorySeparatorChar).Any(IsHidden)
                && extensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .ToList();
    }

    private static string[] MapFolderNames(string[] folders, Func<string, string>? map)
    {
        if (map is null)
            return folders;
        var names = new string[folders.Length];
        for (var i = 0; i < folders.Length; i++)
        {
            var name = map(folders[i]);
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException($"{nameof(ImageFolderOptions.FolderToClassName)} maps folder '{folders[i]}' to a blank name.", nameof(map));
            names[i] = name;
        }
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"{nameof(ImageFolderOptions.FolderToClassName)} maps several folders to the class name '{duplicate.Key}'.", nameof(map));
        return names;
    }

    private static (string[] ClassNames, int[] LabelOfFolder) MatchClassNamesFile(string file, string[] folders, string[] folderNames)
    {
        var fileNames = Clip.ClassNames.FromFile(file);
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < fileNames.Count; i++)
            lineOf[fileNames[i]] = i;

        if (folderNames.Any(lineOf.ContainsKey))
        {
            // By name: the file fixes the order, and must cover exactly the folders.
            var missing = folderNames.Where(n => !lineOf.ContainsKey(n)).ToArray();
            var extra = fileNames.Except(folderNames, StringComparer.Ordinal).ToArray();
            if (missing.Length > 0 || extra.Length > 0)
                throw new InvalidDataException(
                    $"Class-names file '{file}' is matched to the class folders by name, but they differ: folders without a line: [{string.Join(", ", missing)}]; lines without a folder: [{string.Join(", ", extra)}]. Folders: [{string.Join(", ", folderNames)}]; file: [{string.Join(", ", fileNames)}].");
            return ([.. fileNames], folderNames.Select(n => lineOf[n]).ToArray());
        }

        // By position: line i names the i-th folder in ordinal order.
        if (fileNames.Count != folders.Length)
            throw new InvalidDataException(
                $"Class-names file '{file}' has {fileNames.Count} names but there are {folders.Length} class folders (line i names the i-th folder in ordinal order). Folders: [{string.Join(", ", folderNames)}]; file: [{string.Join(", ", fileNames)}].");
        return ([.. fileNames], Enumerable.Range(0, folders.Length).ToArray());
    }
}
