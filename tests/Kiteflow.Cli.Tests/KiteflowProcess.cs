using System.Diagnostics;
using System.Text;

namespace Kiteflow.Cli.Tests;

/// <summary>The built <c>kiteflow</c> run as a real process, for signals and kill -9.</summary>
internal sealed class KiteflowProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Task _reading;

    private KiteflowProcess(Process process)
    {
        _process = process;
        _reading = Task.WhenAll(Pump(process.StandardOutput, _output), Pump(process.StandardError, _error));
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What it wrote to stdout so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>What it wrote to stderr so far.</summary>
    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Starts <c>kiteflow <paramref name="args"/></c> in <paramref name="directory"/>, with <paramref name="environment"/> added.</summary>
    public static KiteflowProcess Start(string directory, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["CI"] = "true";
        return new KiteflowProcess(Process.Start(start)!);
    }

    /// <summary>Sends SIGINT, SIGTERM or another signal by name, with the system's own <c>kill</c>.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-s", name, Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGKILL: no chance to tidy up.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Waits for the process to end (a generous timeout, not a timing); returns its exit code, stdout and stderr.</summary>
    public async Task<(int ExitCode, string Output, string Error)> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await _process.WaitForExitAsync(timeout.Token);
        await _reading;
        return (_process.ExitCode, _output.ToString(), _error.ToString());
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails if the process ends first or after a minute.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.False(_process.HasExited, $"kiteflow ended before {what}: {_error}");
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(1), $"waited a minute for {what}");
            await poll.WaitForNextTickAsync();
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, read);
            }
        }
    }
}
