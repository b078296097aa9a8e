using System.CommandLine;

namespace Kiteflow.Cli.Tests;

/// <summary>Runs the kiteflow command tree in-process, capturing what it writes.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await KiteflowCommandLine.CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
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
