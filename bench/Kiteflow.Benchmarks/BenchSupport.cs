using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Kiteflow.Benchmarks;

/// <summary>What the end-to-end harnesses share: the repository, the built CLI, free ports and peak memory.</summary>
internal static class BenchSupport
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The built CLI; <c>KITEFLOW_BENCH_CLI</c> points the harnesses at another build (say, an older commit's,
    /// to find which change moved a figure).
    /// </summary>
    public static string Cli => Environment.GetEnvironmentVariable("KITEFLOW_BENCH_CLI") is { Length: > 0 } other
        ? other
        : Path.Combine(Root, "src", "Kiteflow.Cli", "bin", "Release", "net10.0", "kiteflow.dll");

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
        var (run, output) = RunMeasured(Cli, args, environment);
        return (run.Elapsed, run.PeakBytes, output);
    }

    /// <summary>
    /// Runs <c>dotnet <paramref name="assembly"/> <paramref name="args"/></c> as a whole process: its wall time,
    /// peak resident memory (VmHWM, sampled every 50 ms) and CPU time (user + system, exact: the kernel's
    /// account of the reaped child), and what it wrote to standard output.
    /// </summary>
    public static (ProcessRun Run, string Output) RunMeasured(string assembly, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(assembly);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.Environment["CI"] = "true";
        var cpuBefore = ChildrenCpu();
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
            throw new InvalidOperationException($"{Path.GetFileName(assembly)} exited {process.ExitCode}: {output.Result}\n{error.Result}");
        }

        return (new ProcessRun(elapsed, peak, ChildrenCpu() - cpuBefore), output.Result);
    }

    /// <summary>
    /// CPU time (user + system) of every child process reaped so far: the kernel adds a child's times here
    /// when its parent waits for it, so the difference around one run is that run's own CPU time.
    /// </summary>
    public static TimeSpan ChildrenCpu()
    {
        const int RusageChildren = -1;
        if (GetRusage(RusageChildren, out var usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed: " + Marshal.GetLastPInvokeError());
        }

        return TimeSpan.FromMicroseconds((usage.UserSeconds + usage.SystemSeconds) * 1_000_000.0 + usage.UserMicroseconds + usage.SystemMicroseconds);
    }

    /// <summary>A live process's CPU time so far (user + system), from /proc/PID/stat.</summary>
    public static TimeSpan ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        // After the command's closing parenthesis: state is field 3, utime 14 and stime 15, in clock ticks (100 a second on Linux).
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>The machine's load right now: the 1-minute load average and CPU pressure (<c>some</c>, last 10 s), since the machine is shared.</summary>
    public static string Load()
    {
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        var pressure = File.Exists("/proc/pressure/cpu") ? File.ReadLines("/proc/pressure/cpu").First().Split(' ')[1].Replace("avg10=", string.Empty, StringComparison.Ordinal) + " %" : "n/a";
        return $"load {load}, CPU pressure {pressure}";
    }

    /// <summary>The <paramref name="p"/>-th percentile (0–100) of <paramref name="sorted"/>, nearest rank.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];

    [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static extern int GetRusage(int who, out Rusage usage);

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

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss;
        public long Ixrss;
        public long Idrss;
        public long Isrss;
        public long Minflt;
        public long Majflt;
        public long Nswap;
        public long Inblock;
        public long Oublock;
        public long Msgsnd;
        public long Msgrcv;
        public long Nsignals;
        public long Nvcsw;
        public long Nivcsw;
    }
}

/// <summary>One contender's run as a whole process: wall time, peak resident memory, CPU time (user + system).</summary>
internal readonly record struct ProcessRun(TimeSpan Elapsed, long PeakBytes, TimeSpan Cpu);
