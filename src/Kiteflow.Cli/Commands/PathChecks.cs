namespace Kiteflow.Cli.Commands;

/// <summary>
/// Whether the files named on the command line can be read or written, checked before any work starts so that each
/// problem is one line naming the option, the path and what to do (never an exception's stack trace).
/// </summary>
internal static class PathChecks
{
    /// <summary>Null when <paramref name="path"/> is a file that can be opened for reading.</summary>
    /// <param name="option">The option that named the file, e.g. <c>--destination</c>.</param>
    /// <param name="path">The path as given.</param>
    /// <param name="what">What the option wants, for the advice: "the destination file (JSON settings)".</param>
    public static string? ReadableFile(string option, string path, string what)
    {
        var shown = CommonOptions.Shown(path);
        if (path.Length == 0)
        {
            return $"{option}: the path is empty; give {what}.";
        }

        if (Directory.Exists(path))
        {
            return $"{option}: '{shown}' is a folder; give {what}.";
        }

        if (!File.Exists(path))
        {
            return $"{option}: '{shown}' does not exist{MissingFolder(path)}; give {what}.";
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"{option}: '{shown}' cannot be read: permission denied; give {what} that you may read.";
        }
        catch (IOException e)
        {
            return $"{option}: '{shown}' cannot be read: {CommonOptions.Shown(e.Message)}";
        }
    }

    /// <summary>
    /// Null when a file can be written at <paramref name="path"/>: not a folder, in a folder that exists, and writable
    /// when it exists already. Nothing is created: Kiteflow makes its own data folder, not the folders a user names.
    /// </summary>
    /// <param name="option">The option that named the file, e.g. <c>--responses</c>.</param>
    /// <param name="path">The path as given.</param>
    /// <param name="example">A file name to suggest when a folder was given, e.g. <c>responses.jsonl</c>.</param>
    public static string? WritableFile(string option, string path, string example)
    {
        var shown = CommonOptions.Shown(path);
        if (path.Length == 0)
        {
            return $"{option}: the path is empty; give the file to write.";
        }

        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"{option}: '{shown}' is not a usable path: {CommonOptions.Shown(e.Message)}";
        }

        if (Directory.Exists(full))
        {
            return $"{option}: '{shown}' is a folder; give the path of a file to write (e.g. {CommonOptions.Shown(Path.Combine(path, example))}).";
        }

        if (Path.GetDirectoryName(full) is { Length: > 0 } folder)
        {
            if (File.Exists(folder))
            {
                return $"{option}: '{CommonOptions.Shown(folder)}' is a file, not a folder, so '{shown}' cannot be written; choose another path.";
            }

            if (!Directory.Exists(folder))
            {
                return $"{option}: the folder '{CommonOptions.Shown(folder)}' does not exist; create it first (mkdir -p) or choose another path.";
            }
        }

        if (!File.Exists(full))
        {
            return null;
        }

        try
        {
            // Open for writing without truncating or appending: the file is left as it was.
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"{option}: '{shown}' cannot be written: permission denied; choose a file you may write.";
        }
        catch (IOException e)
        {
            return $"{option}: '{shown}' cannot be written: {CommonOptions.Shown(e.Message)}";
        }
    }

    /// <summary>
    /// Null when the folder <paramref name="folder"/> exists or can be made: no file stands where it or one of its
    /// parents should be. For the folders Kiteflow makes itself, such as its data folder.
    /// </summary>
    /// <param name="what">What the folder is, for the message: "the data folder (KITEFLOW_HOME …)".</param>
    /// <param name="folder">The folder.</param>
    /// <param name="advice">What to do instead, e.g. "point KITEFLOW_HOME at a folder or give --ledger FILE".</param>
    public static string? CreatableFolder(string what, string folder, string advice)
    {
        for (var current = Path.GetFullPath(folder); !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            if (Directory.Exists(current))
            {
                return null;
            }

            if (File.Exists(current))
            {
                return current == Path.GetFullPath(folder)
                    ? $"{what} '{CommonOptions.Shown(current)}' is a file, not a folder; {advice}."
                    : $"{what} '{CommonOptions.Shown(folder)}' cannot be made: '{CommonOptions.Shown(current)}' is a file; {advice}.";
            }
        }

        return null;
    }

    /// <summary>Whether two paths name the same file (after making them absolute).</summary>
    public static bool SameFile(string first, string second)
    {
        try
        {
            return string.Equals(Path.GetFullPath(first), Path.GetFullPath(second), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }

    /// <summary>" (the folder … does not exist either)" when the missing file's folder is missing too.</summary>
    private static string MissingFolder(string path)
    {
        try
        {
            return Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } folder && !Directory.Exists(folder)
                ? $" (nor does the folder '{CommonOptions.Shown(folder)}')"
                : string.Empty;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return string.Empty;
        }
    }
}
