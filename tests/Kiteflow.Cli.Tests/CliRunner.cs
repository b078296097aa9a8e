using System.Diagnostics;

namespace Kiteflow.Cli.Tests;

/// <summary>Runs kiteflow in-process (the same entry point Program.cs uses) or as a real process, capturing what it writes.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await KiteflowCommandLine.InvokeAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Runs the built kiteflow executable with <paramref name="args"/> in <paramref name="workingDirectory"/>, with
    /// <paramref name="environment"/> added to (or, for null values, removed from) this process's environment, and
    /// <paramref name="standardInput"/> (if any) on its standard input.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(string[] args, string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null, string? standardInput = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["CI"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start)!;
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kiteflow {string.Join(' ', args)} did not exit within 2 minutes.");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>The repository's root (the folder holding Kiteflow.slnx).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Example(string path) => Path.Combine(RepositoryRoot, "examples", path);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Kiteflow.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Kiteflow.slnx not found above " + AppContext.BaseDirectory);
    }
}
