using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kiteflow.Benchmarks;

/// <summary>What the end-to-end harnesses share: the repository, the built CLI, free ports and peak memory.</summary>
internal static class BenchSupport
{
    public static string Root { get; } = FindRoot();

    public static string Cli => Path.Combine(Root, "src", "Kiteflow.Cli", "bin", "Release", "net10.0", "kiteflow.dll");

    public static string WorkDirectory
    {
        get
        {
            var directory = Path.Combine(Path.GetTempPath(), "kiteflow-bench");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs kiteflow with <paramref name="args"/>; returns its wall time, peak resident memory (VmHWM) and output.</summary>
    public static (TimeSpan Elapsed, long PeakBytes, string Output) RunKiteflow(IEnumerable<string> args, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Cli);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["CI"] = "true";
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var peak = 0L;
        while (!process.WaitForExit(50))
        {
            peak = Math.Max(peak, PeakResident(process.Id));
        }

        var elapsed = stopwatch.Elapsed;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kiteflow exited {process.ExitCode}: {output.Result}\n{error.Result}");
        }

        return (elapsed, peak, output.Result);
    }

    /// <summary>The process's peak resident set (VmHWM), 0 once it is gone.</summary>
    public static long PeakResident(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>Writes <paramref name="count"/> generated records to a cached file.</summary>
    public static string Records(int count)
    {
        var path = Path.Combine(WorkDirectory, $"builds-{count}.jsonl");
        if (File.Exists(path))
        {
            return path;
        }

        using var stream = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        const int Block = 10_000;
        for (var written = 0; written < count; written += Block)
        {
            var lines = RecordGenerator.JsonLines(Math.Min(Block, count - written), written);
            stream.Write(lines);
        }

        stream.Close();
        File.Move(path + ".tmp", path);
        return path;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Kiteflow.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Kiteflow.slnx not found");
    }
}
