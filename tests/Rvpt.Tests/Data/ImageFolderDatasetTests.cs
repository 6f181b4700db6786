using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Tests;

public sealed class ImageFolderDatasetTests
{
    private static readonly ClipImageProcessor Processor = new(new ClipImageProcessorOptions { ImageSize = 8 });

    [Fact]
    public void DiscoversClassesInOrdinalOrderAndLabelsFilesByFolder()
    {
        using var dir = new TempDirectory();
        // 'Zebra' sorts before 'ant' ordinally (upper case first), unlike a culture-aware sort.
        DataTestImages.WriteFolder(dir.Path, ("ant", 2), ("Zebra", 1), ("bee", 3));

        var data = ImageFolderDataset.Open(dir.Path, Processor);

        Assert.Equal(["Zebra", "ant", "bee"], data.ClassNames);
        Assert.Equal(6, data.Count);
        Assert.Equal([0, 1, 1, 2, 2, 2], Enumerable.Range(0, data.Count).Select(data.GetLabel));
        Assert.Equal(Path.Combine(dir.Path, "ant", "img01.png"), data.GetPath(2));
        Assert.Equal(data.GetPath(2), data.Describe(2));
        Assert.Equal([1, 2, 3], data.CountPerClass());
    }

    [Fact]
    public void KeepsOnlyImageExtensionsCaseInsensitivelyAndSkipsHiddenFiles()
    {
        using var dir = new TempDirectory();
        DataTestImages.WritePng(Path.Combine(dir.Path, "cat", "a.PNG"), 10, 10);
        DataTestImages.WritePng(Path.Combine(dir.Path, "cat", "sub", "b.png"), 10, 10);
        File.WriteAllText(Path.Combine(dir.Path, "cat", "notes.txt"), "x");
        File.WriteAllText(Path.Combine(dir.Path, "cat", "._a.png"), "macOS metadata");
        File.WriteAllText(Path.Combine(dir.Path, "cat", "c.png.bak"), "x");
        Directory.CreateDirectory(Path.Combine(dir.Path, ".ipynb_checkpoints"));

        var data = ImageFolderDataset.Open(dir.Path, Processor);

        Assert.Equal(["cat"], data.ClassNames);
        Assert.Equal(["a.PNG", Path.Combine("sub", "b.png")],
            Enumerable.Range(0, data.Count).Select(i => Path.GetRelativePath(Path.Combine(dir.Path, "cat"), data.GetPath(i))));
    }

    [Fact]
    public void LoadsPixels01TensorAtStoredResolution()
    {
        using var dir = new TempDirectory();
        DataTestImages.WritePng(Path.Combine(dir.Path, "cat", "a.png"), 13, 7);
        var data = ImageFolderDataset.Open(dir.Path, Processor);

        using var image = data.LoadPixels01(0);

        Assert.Equal([3L, 7, 13], image.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, image.dtype);
        Assert.Equal(1.0, image.max().item<float>(), 6);
        Assert.Equal(0.0, image.min().item<float>(), 6);
    }

    [Fact]
    public void FolderToClassNameMapsNames()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("golden_retriever", 1), ("tabby_cat", 1));

        var data = ImageFolderDataset.Open(dir.Path, Processor, new ImageFolderOptions { FolderToClassName = n => n.Replace('_', ' ') });

        Assert.Equal(["golden retriever", "tabby cat"], data.ClassNames);
    }

    [Fact]
    public void ClassNamesFileByPositionNamesSortedFolders()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("n02", 1), ("n01", 2));
        var names = dir.Write("names.txt", "tench\ngoldfish\n"u8.ToArray());

        var data = ImageFolderDataset.Open(dir.Path, Processor, new ImageFolderOptions { ClassNamesFile = names });

        Assert.Equal(["tench", "goldfish"], data.ClassNames);
        Assert.Equal([2, 1], data.CountPerClass());
        Assert.EndsWith("n01", data.ClassFolders[0]);
    }

    [Fact]
    public void ClassNamesFileByNameFixesTheLabelOrder()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("cat", 1), ("dog", 2));
        var names = dir.Write("names.txt", "dog\ncat\n"u8.ToArray());

        var data = ImageFolderDataset.Open(dir.Path, Processor, new ImageFolderOptions { ClassNamesFile = names });

        Assert.Equal(["dog", "cat"], data.ClassNames);
        Assert.Equal([2, 1], data.CountPerClass());
        Assert.Contains(Path.Combine("cat", "img00.png"), data.GetPath(2));
        Assert.EndsWith("dog", data.ClassFolders[0]);
    }

    [Fact]
    public void ClassNamesFileCountMismatchListsBoth()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("n01", 1), ("n02", 1));
        var names = dir.Write("names.txt", "tench\ngoldfish\nshark\n"u8.ToArray());

        var ex = Assert.Throws<InvalidDataException>(() => ImageFolderDataset.Open(dir.Path, Processor, new ImageFolderOptions { ClassNamesFile = names }));

        Assert.Contains(names, ex.Message);
        Assert.Contains("3 names", ex.Message);
        Assert.Contains("2 class folders", ex.Message);
        Assert.Contains("[n01, n02]", ex.Message);
        Assert.Contains("[tench, goldfish, shark]", ex.Message);
    }

    [Fact]
    public void ClassNamesFilePartialNameMatchIsAnError()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("cat", 1), ("dog", 1));
        var names = dir.Write("names.txt", "dog\nkitten\n"u8.ToArray());

        var ex = Assert.Throws<InvalidDataException>(() => ImageFolderDataset.Open(dir.Path, Processor, new ImageFolderOptions { ClassNamesFile = names }));

        Assert.Contains("folders without a line: [cat]", ex.Message);
        Assert.Contains("lines without a folder: [kitten]", ex.Message);
    }

    [Fact]
    public void EmptyClassFolderIsAnErrorNamingTheFolderUnlessAllowed()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("cat", 2));
        Directory.CreateDirectory(Path.Combine(dir.Path, "dog"));
        File.WriteAllText(Path.Combine(dir.Path, "dog", "readme.txt"), "no images");

        var ex = Assert.Throws<InvalidDataException>(() => ImageFolderDataset.Open(dir.Path, Processor));
        Assert.Contains(Path.Combine(dir.Path, "dog"), ex.Message);
        Assert.Contains("no images", ex.Message);

        var data = ImageFolderDataset.Open(dir.Path, Processor, new ImageFolderOptions { AllowEmptyClasses = true });
        Assert.Equal(["cat", "dog"], data.ClassNames);
        Assert.Equal([2, 0], data.CountPerClass());
    }

    [Fact]
    public void MissingRootAndRootWithoutClassFoldersAreErrors()
    {
        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "nope");
        var notFound = Assert.Throws<DirectoryNotFoundException>(() => ImageFolderDataset.Open(missing, Processor));
        Assert.Contains(missing, notFound.Message);

        DataTestImages.WritePng(dir.File("loose.png"), 4, 4);
        var noClasses = Assert.Throws<InvalidDataException>(() => ImageFolderDataset.Open(dir.Path, Processor));
        Assert.Contains(dir.Path, noClasses.Message);
        Assert.Contains("no class sub-folders", noClasses.Message);
    }

    [Fact]
    public void IndexOutOfRangeIsRejected()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("cat", 1));
        var data = ImageFolderDataset.Open(dir.Path, Processor);

        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetLabel(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetPath(-1));
    }
}
