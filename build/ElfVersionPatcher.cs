// Build-time fix for TorchSharp's native library on Linux distributions whose libstdc++ is older than
// the one it was linked against (Debian 12: GLIBCXX_3.4.30; libLibTorchSharp.so asks for 3.4.32).
//
// The only symbol that needs GLIBCXX_3.4.32 is _ZSt21ios_base_library_initv, a marker that GCC 13's
// <iostream> references and nothing calls. Marking that version requirement WEAK (VER_FLG_WEAK) in the
// copy of the .so in the build output lets the dynamic loader accept the library. We refuse to patch
// when any other symbol needs a missing version, and leave the file untouched when the system
// libstdc++ already defines every version the library asks for.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (build/NativeLibraryFix.targets)
// and by the test project (with RVPT_NO_MSBUILD_TASK defined), which tests the patcher directly.
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;

namespace Rvpt.Build
{
    /// <summary>What <see cref="ElfVersionPatcher.Patch"/> did to a file.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The system library defines every required version: the file was left untouched.</summary>
        NotNeeded,
        /// <summary>The missing version requirements were marked weak and the file was rewritten.</summary>
        Patched,
        /// <summary>The missing version requirements were already weak: nothing to do.</summary>
        AlreadyPatched,
        /// <summary>A symbol other than the known markers needs a missing version: patching would be unsafe.</summary>
        Unsafe,
    }

    /// <summary>Result of <see cref="ElfVersionPatcher.Patch"/>.</summary>
    public sealed class ElfPatchResult
    {
        internal ElfPatchResult(ElfPatchOutcome outcome, IReadOnlyList<string> versions, IReadOnlyList<string> blockingSymbols)
        {
            Outcome = outcome;
            MissingVersions = versions;
            BlockingSymbols = blockingSymbols;
        }

        /// <summary>What happened.</summary>
        public ElfPatchOutcome Outcome { get; }

        /// <summary>Versions required from the library that the system library does not define.</summary>
        public IReadOnlyList<string> MissingVersions { get; }

        /// <summary>Symbols that need a missing version and are not known to be safe to weaken.</summary>
        public IReadOnlyList<string> BlockingSymbols { get; }
    }

    /// <summary>Reads and patches GNU symbol-version sections of 64-bit little-endian ELF files.</summary>
    public static class ElfVersionPatcher
    {
        /// <summary>The dependency whose version requirements we inspect.</summary>
        public const string LibStdCxx = "libstdc++.so.6";

        /// <summary>Symbols that may be weakened: markers referenced but never called.</summary>
        public static readonly IReadOnlyList<string> SafeMarkerSymbols = new[] { "_ZSt21ios_base_library_initv" };

        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>
        /// Marks the requirements on versions of <paramref name="dependency"/> that <paramref name="systemVersions"/>
        /// lacks as weak, provided only <paramref name="safeSymbols"/> use them. Rewrites the file atomically.
        /// </summary>
        public static ElfPatchResult Patch(string path, ISet<string> systemVersions, string dependency = LibStdCxx,
            IEnumerable<string>? safeSymbols = null)
        {
            var safe = new HashSet<string>(safeSymbols ?? SafeMarkerSymbols, StringComparer.Ordinal);
            var elf = new ElfImage(path, File.ReadAllBytes(path));
            var missing = elf.ReadRequirements()
                .Where(r => r.File == dependency && !systemVersions.Contains(r.Version))
                .ToList();
            var names = missing.Select(r => r.Version).ToList();
            if (missing.Count == 0)
                return new ElfPatchResult(ElfPatchOutcome.NotNeeded, names, Array.Empty<string>());

            var users = elf.SymbolsUsingVersionIndexes(new HashSet<ushort>(missing.Select(r => r.Index)));
            var blocking = users.Where(s => !safe.Contains(s)).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
            if (blocking.Count > 0)
                return new ElfPatchResult(ElfPatchOutcome.Unsafe, names, blocking);

            if (missing.All(r => (r.Flags & VerFlgWeak) != 0))
                return new ElfPatchResult(ElfPatchOutcome.AlreadyPatched, names, Array.Empty<string>());

            foreach (var r in missing)
                elf.WriteUInt16(r.FlagsOffset, (ushort)(r.Flags | VerFlgWeak));

            var temp = path + ".rvpt-tmp";
            File.WriteAllBytes(temp, elf.Bytes);
            File.Replace(temp, path, destinationBackupFileName: null); // atomic rename; netstandard has no Move(overwrite)
            return new ElfPatchResult(ElfPatchOutcome.Patched, names, Array.Empty<string>());
        }

        /// <summary>The version names an ELF shared library defines (its SHT_GNU_verdef section).</summary>
        public static ISet<string> ReadDefinedVersions(string path)
        {
            var elf = new ElfImage(path, File.ReadAllBytes(path));
            return new HashSet<string>(elf.ReadDefinitions(), StringComparer.Ordinal);
        }

        /// <summary>The version requirements of an ELF file as (file, version, weak) triples.</summary>
        public static IReadOnlyList<(string File, string Version, bool Weak)> ReadRequirements(string path)
        {
            var elf = new ElfImage(path, File.ReadAllBytes(path));
            return elf.ReadRequirements().Select(r => (r.File, r.Version, (r.Flags & VerFlgWeak) != 0)).ToList();
        }

        /// <summary>
        /// Finds the libstdc++ the dynamic loader would use: LD_LIBRARY_PATH first, then the loader cache
        /// (<c>ldconfig -p</c>), then the usual multiarch folders. Returns null when none is found.
        /// </summary>
        public static string? FindSystemLibrary(string fileName = LibStdCxx)
        {
            var candidates = new List<string>();
            var ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath))
                candidates.AddRange(ldPath.Split(':').Where(d => d.Length > 0).Select(d => Path.Combine(d, fileName)));
            candidates.AddRange(FromLoaderCache(fileName));
            foreach (var dir in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                         "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib" })
                candidates.Add(Path.Combine(dir, fileName));
            return candidates.FirstOrDefault(File.Exists);
        }

        private static IEnumerable<string> FromLoaderCache(string fileName)
        {
            string output;
            try
            {
                var psi = new ProcessStartInfo("ldconfig", "-p") { RedirectStandardOutput = true, UseShellExecute = false };
                using var p = Process.Start(psi);
                if (p is null) return Array.Empty<string>();
                output = p.StandardOutput.ReadToEnd();
                p.WaitForExit(5000);
            }
            catch (Exception)
            {
                return Array.Empty<string>(); // no ldconfig on PATH: fall back to the usual folders
            }
            var is64Arm = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64;
            var arch = is64Arm ? "AArch64" : "x86-64";
            return output.Split('\n')
                .Where(l => l.TrimStart().StartsWith(fileName + " ", StringComparison.Ordinal) && l.Contains(arch))
                .Select(l => l.Substring(l.LastIndexOf("=>", StringComparison.Ordinal) + 2).Trim())
                .ToList();
        }

        private readonly struct Requirement
        {
            public Requirement(string file, string version, ushort flags, ushort index, int flagsOffset)
            {
                File = file; Version = version; Flags = flags; Index = index; FlagsOffset = flagsOffset;
            }
            public string File { get; }
            public string Version { get; }
            public ushort Flags { get; }
            public ushort Index { get; }
            public int FlagsOffset { get; }
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info, long entSize)
            {
                Type = type; Offset = offset; Size = size; Link = link; Info = info; EntSize = entSize;
            }
            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
            public long EntSize { get; }
        }

        /// <summary>Bounds-checked view of an ELF64 little-endian image.</summary>
        private sealed class ElfImage
        {
            private readonly string _path;
            private readonly Section[] _sections;

            public ElfImage(string path, byte[] bytes)
            {
                _path = path;
                Bytes = bytes;
                if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                    throw Bad("not an ELF file (missing \\x7fELF magic)");
                if (bytes[4] != 2 || bytes[5] != 1)
                    throw Bad("only 64-bit little-endian ELF files are supported");
                long shoff = (long)U64(0x28);
                int shentsize = U16(0x3A), shnum = U16(0x3C);
                if (shentsize < 64 || shoff <= 0 || shoff + (long)shentsize * shnum > bytes.Length)
                    throw Bad($"section header table out of range (offset {shoff}, {shnum} x {shentsize} bytes, file {bytes.Length} bytes)");
                _sections = new Section[shnum];
                for (int i = 0; i < shnum; i++)
                {
                    int h = checked((int)(shoff + (long)i * shentsize));
                    var s = new Section(U32(h + 4), (long)U64(h + 0x18), (long)U64(h + 0x20), U32(h + 0x28), U32(h + 0x2C), (long)U64(h + 0x38));
                    if (s.Type != 8 /* NOBITS */ && (s.Offset < 0 || s.Size < 0 || s.Offset + s.Size > bytes.Length))
                        throw Bad($"section {i} lies outside the file");
                    _sections[i] = s;
                }
            }

            public byte[] Bytes { get; }

            public IEnumerable<Requirement> ReadRequirements()
            {
                foreach (var sec in _sections.Where(s => s.Type == ShtGnuVerneed))
                {
                    var strtab = Linked(sec);
                    long entry = sec.Offset;
                    for (uint n = 0; n < sec.Info; n++)
                    {
                        int e = In(sec, entry, 16);
                        int count = U16(e + 2);
                        string file = Str(strtab, U32(e + 4));
                        long aux = entry + U32(e + 8);
                        for (int a = 0; a < count; a++)
                        {
                            int x = In(sec, aux, 16);
                            yield return new Requirement(file, Str(strtab, U32(x + 8)), U16(x + 4), U16(x + 6), x + 4);
                            uint nextAux = U32(x + 12);
                            if (nextAux == 0) break;
                            aux += nextAux;
                        }
                        uint next = U32(e + 12);
                        if (next == 0) break;
                        entry += next;
                    }
                }
            }

            public IEnumerable<string> ReadDefinitions()
            {
                foreach (var sec in _sections.Where(s => s.Type == ShtGnuVerdef))
                {
                    var strtab = Linked(sec);
                    long entry = sec.Offset;
                    for (uint n = 0; n < sec.Info; n++)
                    {
                        int e = In(sec, entry, 20);
                        if (U16(e + 6) > 0) // vd_cnt: the first Verdaux names the version itself
                        {
                            int x = In(sec, entry + U32(e + 12), 8);
                            yield return Str(strtab, U32(x));
                        }
                        uint next = U32(e + 16);
                        if (next == 0) break;
                        entry += next;
                    }
                }
            }

            public List<string> SymbolsUsingVersionIndexes(ISet<ushort> indexes)
            {
                var result = new List<string>();
                var versym = _sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
                var dynsym = _sections.FirstOrDefault(s => s.Type == ShtDynsym);
                if (versym.Type == 0 || dynsym.Type == 0) return result;
                var strtab = Linked(dynsym);
                long count = Math.Min(versym.Size / 2, dynsym.Size / 24);
                for (long i = 0; i < count; i++)
                {
                    ushort v = (ushort)(U16(In(versym, versym.Offset + i * 2, 2)) & 0x7fff);
                    if (indexes.Contains(v))
                        result.Add(Str(strtab, U32(In(dynsym, dynsym.Offset + i * 24, 24))));
                }
                return result;
            }

            public void WriteUInt16(int offset, ushort value)
            {
                Bytes[offset] = (byte)value;
                Bytes[offset + 1] = (byte)(value >> 8);
            }

            private Section Linked(Section s)
            {
                if (s.Link >= _sections.Length) throw Bad($"section link {s.Link} out of range");
                return _sections[s.Link];
            }

            private int In(Section s, long offset, int length)
            {
                if (offset < s.Offset || offset + length > s.Offset + s.Size) throw Bad("version entry outside its section");
                return (int)offset;
            }

            private string Str(Section strtab, uint offset)
            {
                long start = strtab.Offset + offset;
                if (offset >= strtab.Size) throw Bad("string offset outside the string table");
                long end = start;
                while (end < strtab.Offset + strtab.Size && Bytes[end] != 0) end++;
                return Encoding.UTF8.GetString(Bytes, (int)start, (int)(end - start));
            }

            private ushort U16(int o) => (ushort)(Bytes[o] | (Bytes[o + 1] << 8));
            private uint U32(int o) => (uint)(Bytes[o] | (Bytes[o + 1] << 8) | (Bytes[o + 2] << 16) | (Bytes[o + 3] << 24));
            private ulong U64(int o) => U32(o) | ((ulong)U32(o + 4) << 32);

            private InvalidDataException Bad(string what) => new InvalidDataException($"{_path}: {what}.");
        }
    }

#if !RVPT_NO_MSBUILD_TASK
    /// <summary>MSBuild task: patches every given libLibTorchSharp.so so that it loads on the build machine.</summary>
    public sealed class PatchTorchSharpNativeLibrary : Microsoft.Build.Utilities.Task
    {
        /// <summary>Native libraries to inspect.</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            var system = ElfVersionPatcher.FindSystemLibrary();
            if (system is null)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "Rvpt: no system libstdc++.so.6 found; TorchSharp's native library left as shipped.");
                return true;
            }
            var versions = ElfVersionPatcher.ReadDefinedVersions(system);
            foreach (var item in Files)
            {
                var result = ElfVersionPatcher.Patch(item.ItemSpec, versions);
                var missing = string.Join(", ", result.MissingVersions);
                switch (result.Outcome)
                {
                    case ElfPatchOutcome.Patched:
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"Rvpt: {item.ItemSpec}: marked {missing} weak ({system} lacks it).");
                        break;
                    case ElfPatchOutcome.Unsafe:
                        Log.LogWarning($"Rvpt: {item.ItemSpec} needs {missing}, which {system} lacks, for symbols that cannot be weakened safely: {string.Join(", ", result.BlockingSymbols)}. Install a newer libstdc++ (GCC 13 or later).");
                        break;
                    default:
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"Rvpt: {item.ItemSpec}: {result.Outcome}.");
                        break;
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
