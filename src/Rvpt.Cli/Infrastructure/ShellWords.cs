using System.Text;

namespace Rvpt.Cli;

/// <summary>POSIX shell quoting of job lines, so that a jobs file runs unchanged under bash, GNU parallel or a Slurm array.</summary>
internal static class ShellWords
{
    /// <summary>Quotes one argument for a POSIX shell (single quotes when it holds anything but safe characters).</summary>
    public static string Quote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c))) return word;
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    /// <summary>Splits a line written by <see cref="Join"/> back into its words (single quotes and backslash escapes outside quotes).</summary>
    public static List<string> Split(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        bool inWord = false, quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '\'') quoted = false;
                else current.Append(c);
            }
            else if (c == '\'') { quoted = true; inWord = true; }
            else if (c == '\\' && i + 1 < line.Length) { current.Append(line[++i]); inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else { current.Append(c); inWord = true; }
        }
        if (quoted) throw new FormatException($"Unterminated quote in: {line}");
        if (inWord) words.Add(current.ToString());
        return words;
    }
}
