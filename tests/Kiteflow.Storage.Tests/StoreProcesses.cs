using System.Diagnostics;
using System.Globalization;

namespace Kiteflow.Storage.Tests;

/// <summary>
/// Runs <c>tests/Kiteflow.Testing.StoreAppender</c> (built beside the tests) as several real processes on one store: it
/// hands each the connection string in <c>KITEFLOW_TEST_STORE</c> (never on the command line), waits until every one
/// has its store open, releases them together with a <c>go</c> on stdin, and returns each one's output lines.
/// </summary>
internal static class StoreProcesses
{
    // Bounds each wait on a helper process; they answer in seconds, this only stops a broken run from hanging.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>One process per argument list; the lines each printed after "ready", in the order of the lists.</summary>
    public static async Task<IReadOnlyList<string[]>> RunAsync(string connectionString, IReadOnlyList<object[]> arguments)
    {
        var processes = new List<(Process Process, Task<string> Errors)>();
        var lines = new List<string[]>();
        try
        {
            foreach (var list in arguments)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
                start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kiteflow.Testing.StoreAppender.dll"));
                foreach (var argument in list)
                {
                    start.ArgumentList.Add(Convert.ToString(argument, CultureInfo.InvariantCulture)!);
                }

                start.Environment["KITEFLOW_TEST_STORE"] = connectionString;
                var process = Process.Start(start)!;
                processes.Add((process, process.StandardError.ReadToEndAsync()));
            }

            // Every worker has its store open before any of them starts: they all start at the same signal.
            foreach (var (process, errors) in processes)
            {
                var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(Patience);
                Assert.True(ready == "ready", $"a worker said '{ready}': {(process.HasExited ? await errors : string.Empty)}");
            }

            foreach (var (process, _) in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync();
            }

            for (var w = 0; w < processes.Count; w++)
            {
                var (process, errors) = processes[w];
                var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(Patience);
                await process.WaitForExitAsync().WaitAsync(Patience);
                Assert.True(process.ExitCode == 0, $"worker {w} exited {process.ExitCode}: {await errors}");
                lines.Add(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
        }
        finally
        {
            foreach (var (process, _) in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                process.Dispose();
            }
        }

        return lines;
    }
}
