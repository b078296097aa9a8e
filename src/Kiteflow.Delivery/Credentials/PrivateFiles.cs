namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// Files only their owner may read: credentials, the key, the ledger and the run's outputs (which hold API responses). The mode is given when the file is created (never a chmod after the write,
/// which would leave a window where the content is readable by others).
/// </summary>
internal static class PrivateFiles
{
    /// <summary>rw------- (0600).</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>rwx------ (0700), for the folder Kiteflow creates.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates the folder when it does not exist, and every missing folder above it, each 0700 (as the XDG base
    /// directory specification asks of the data folder); existing folders keep their modes.
    /// </summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var missing = new Stack<string>();
        for (var folder = Path.GetFullPath(path); !string.IsNullOrEmpty(folder) && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            missing.Push(folder);
        }

        while (missing.TryPop(out var folder))
        {
            Directory.CreateDirectory(folder, DirectoryMode);
        }
    }

    /// <summary>
    /// Creates the folder that will hold <paramref name="path"/> when it does not exist (0700, parents included);
    /// an existing folder keeps its mode.
    /// </summary>
    public static void CreateParentDirectory(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            CreateDirectory(directory);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for writing, creating it with mode 0600 when it does not exist. An existing regular
    /// file that its group or others may read is narrowed to its owner's bits before anything is written: it is about
    /// to hold data. Devices and pipes (<c>/dev/stdout</c>, a FIFO) are left as they are.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="mode">How to open it (<see cref="System.IO.FileMode.Create"/>, <see cref="System.IO.FileMode.OpenOrCreate"/>, …).</param>
    /// <param name="access">The access wanted.</param>
    /// <param name="bufferSize">The stream's buffer; 0 writes every call straight through to the file.</param>
    public static FileStream Open(string path, System.IO.FileMode mode, FileAccess access = FileAccess.Write, int bufferSize = 0)
    {
        CreateParentDirectory(path);
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.Read, BufferSize = bufferSize };
        if (OperatingSystem.IsWindows())
        {
            return new FileStream(path, options);
        }

        options.UnixCreateMode = FileMode;
        var stream = new FileStream(path, options);
        if (stream.CanSeek && !IsSystemFile(path))
        {
            Narrow(stream);
        }

        return stream;
    }

    /// <summary>Creates <paramref name="path"/> empty with mode 0600 when it does not exist; narrows it when it does.</summary>
    public static void Touch(string path)
    {
        using (Open(path, System.IO.FileMode.OpenOrCreate))
        {
        }
    }

    /// <summary>Narrows an existing regular file as <see cref="Open"/> does; nothing when it does not exist.</summary>
    public static void NarrowIfExists(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path) || IsSystemFile(path))
        {
            return;
        }

        try
        {
            using var stream = new FileStream(path, System.IO.FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            if (stream.CanSeek)
            {
                Narrow(stream);
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Gone meanwhile: whoever creates it again creates it 0600.
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a device or a kernel file (<c>/dev/null</c>, <c>/proc/…</c>): never narrowed.
    /// .NET does not tell a character device from a regular file (<c>/dev/null</c> seeks and reads as "Normal"), and
    /// narrowing <c>/dev/null</c> as root breaks every other user's processes, so the folders that hold them are named.
    /// </summary>
    private static bool IsSystemFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target)
        {
            full = target.FullName;
        }

        return full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal) || full.StartsWith("/sys/", StringComparison.Ordinal);
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Narrow(FileStream stream)
    {
        try
        {
            var current = File.GetUnixFileMode(stream.SafeFileHandle);
            var owner = current & (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (owner != current)
            {
                File.SetUnixFileMode(stream.SafeFileHandle, owner);
            }
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's file that we may write to: its mode is theirs to choose.
        }
    }

    /// <summary>Writes a new file (failing if it exists) with mode 0600, flushed to disk.</summary>
    public static void WriteNew(string path, ReadOnlySpan<byte> content)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        using var stream = new FileStream(path, options);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> at once: a temporary file (0600) in the same folder,
    /// renamed over the old one, so a reader sees the old file or the new one, never half of one.
    /// </summary>
    public static void ReplaceAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            WriteNew(temporary, content);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw;
        }
    }
}
