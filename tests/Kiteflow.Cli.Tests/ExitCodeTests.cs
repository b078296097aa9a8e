using System.CommandLine;
using System.Net;
using System.Net.Sockets;

namespace Kiteflow.Cli.Tests;

/// <summary>
/// Each documented exit code of each command (docs/cli.md), reached through the same entry point as the process:
/// every user error is one line (no stack trace), argument errors are 2, files that cannot be read or written are 1.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-exit-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Destination => CliRunner.Example("trigger-builds/destination.json");

    private static string Input => CliRunner.Example("trigger-builds/builds.jsonl");

    [Theory]
    [InlineData("nope.json", "does not exist")]
    [InlineData("folder", "is a folder")]
    public async Task Preview_DestinationMissingOrAFolder_Exit1InOneLine(string destination, string reason)
    {
        Directory.CreateDirectory(Path.Combine(_directory, "folder"));

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", Path.Combine(_directory, destination), "-i", Input);

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, "--destination: ", reason);
    }

    [Fact]
    public async Task Preview_InputIsAFolder_Exit1InOneLine()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("preview", "-d", Destination, "-i", _directory);

        Assert.Equal(1, exitCode);
        AssertOneLine(error, "--input: ", "is a folder");
    }

    public static TheoryData<string[], string> PreviewArgumentErrors => new()
    {
        { ["preview", "-d", Destination], "Option '--input' is required." },
        { ["preview", "-d", Destination, "-i", Input, "--bogus"], "'--bogus'" },
        { ["preview", "-d", Destination, "-i", Input, "-n", "abc"], "--limit: 'abc' is not a whole number" },
        { ["preview", "-d", Destination, "-i", Input, "-n", "0"], "--limit: 0 is out of range" },
        { ["preview", "-d", Destination, "-i", Input, "--api-base", "ftp://example.com"], "--api-base: 'ftp://example.com' is not an http(s) URL" },
        { ["preview", "-d", Destination, "-i", Input, "--format", "yaml"], "--format: 'yaml' is not an input format" },
        { ["preview", "-d", Destination, "-i", Input, "--threads", "0"], "--threads: 0 is out of range; give a whole number from 1 to 64" },
        { ["preview", "-d", Destination, "-i", Input, "--threads", "many"], "--threads: 'many' is not a whole number" },
        { ["preview", "-d", Destination, "-i", Input, "-n", "2", "--all"], "give --limit N or --all, not both." },

        // A mistyped option is named with the one meant, and its value is not a second problem.
        { ["preview", "-d", Destination, "-i", Input, "--lmit", "3"], "Unrecognized option '--lmit'; did you mean --limit?" },

        // What send refuses, preview refused too: it showed URLs with a password, or /v2/v2, that send would not send.
        { ["preview", "-d", Destination, "-i", Input, "--api-base", "https://x:bkua_abcdef0123456789abcdef@proxy.example.com"], "--api-base: the API base holds a user name or password" },
        { ["preview", "-d", Destination, "-i", Input, "--api-base", "https://proxy.example.com/v2"], "--api-base: the API base 'https://proxy.example.com/v2' ends with /v2" },
        { ["preview", "-d", Destination, "-i", Input, "--api-base", "http://example.com"], "--api-base: the API base http://example.com is plain http" },
    };

    [Fact]
    public async Task UnknownCommand_Exit2InOneLine()
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("nosuchcmd");

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, "kiteflow: Unrecognized command or argument 'nosuchcmd'.");
    }

    [Theory]
    [MemberData(nameof(PreviewArgumentErrors))]
    public async Task Preview_ArgumentError_Exit2InOneLine(string[] args, string message)
    {
        var (exitCode, output, error) = await CliRunner.RunAsync(args);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, "kiteflow preview: ", message);
        Assert.Contains("See 'kiteflow preview --help'.", error);
        Assert.DoesNotContain("System.Int32", error);
        Assert.DoesNotContain("bkua_", error);
    }

    [Fact]
    public async Task Preview_ExtensionTellsNoFormat_Exit2SayingToAddFormat()
    {
        var input = Path.Combine(_directory, "records.txt");
        await File.WriteAllTextAsync(input, "{}");

        var (exitCode, _, error) = await CliRunner.RunAsync("preview", "-d", Destination, "-i", input);

        Assert.Equal(2, exitCode);
        AssertOneLine(error, "--input: ", "add --format json, jsonl or csv");
    }

    public static TheoryData<string[], string> SendArgumentErrors => new()
    {
        { ["send", "-d", Destination], "Option '--input' is required." },
        { ["send", "-d", Destination, "-i", Input, "--bogus"], "'--bogus'" },
        { ["send", "-d", Destination, "-i", Input, "--api-base", "ftp://example.com"], "--api-base: 'ftp://example.com' is not an http(s) URL" },
        { ["send", "-d", Destination, "-i", Input, "--api-base", "http://bkua_abcdef0123456789abcdef.example.com"], "--api-base: the API base http://••••.example.com is plain http" },
        { ["send", "-d", Destination, "-i", Input, "--token-env", "not a name"], "--token-env: what was given is not a variable name" },
        { ["send", "-d", Destination, "-i", Input, "--credential", "../etc"], "--credential: '../etc' is not a credential name" },
        { ["send", "-d", Destination, "-i", Input, "--credential", "acme", "--token-env", "ACME_TOKEN"], "give --credential or --token-env, not both" },
        { ["send", "-d", Destination, "-i", Input, "--rejected", Input], "--rejected names the same file as --input" },
        { ["send", "-d", Destination, "-i", Input, "--threads", "65"], "--threads: 65 is out of range; give a whole number from 1 to 64" },
    };

    [Theory]
    [MemberData(nameof(SendArgumentErrors))]
    public async Task Send_ArgumentError_Exit2InOneLineNothingSent(string[] args, string message)
    {
        var (exitCode, output, error) = await CliRunner.RunAsync(args);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, message);
        Assert.DoesNotContain("bkua_", error);
    }

    public static TheoryData<string, string, string> SendUnusablePaths => new()
    {
        { "--destination", "missing.json", "--destination: '{dir}/missing.json' does not exist" },
        { "--destination", "folder", "--destination: '{dir}/folder' is a folder" },
        { "--input", "missing.jsonl", "--input: '{dir}/missing.jsonl' does not exist" },
        { "--responses", "no-such-folder/responses.jsonl", "--responses: the folder '{dir}/no-such-folder' does not exist" },
        { "--summary-json", "folder", "--summary-json: '{dir}/folder' is a folder" },
        { "--rejected", "file.txt/rejected.jsonl", "--rejected: '{dir}/file.txt' is a file, not a folder" },
        { "--ledger", "no-such-folder/ledger.db", "--ledger: the folder '{dir}/no-such-folder' does not exist" },
    };

    [Theory]
    [MemberData(nameof(SendUnusablePaths))]
    public async Task Send_FileCannotBeReadOrWritten_Exit1InOneLineNothingCreated(string option, string path, string message)
    {
        Directory.CreateDirectory(Path.Combine(_directory, "folder"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "file.txt"), "x");
        var args = new Dictionary<string, string> { ["--destination"] = Destination, ["--input"] = Input, ["--ledger"] = Path.Combine(_directory, "ledger.db") };
        args[option] = Path.Combine(_directory, path);

        var (exitCode, output, error) = await CliRunner.RunAsync(["send", .. args.SelectMany(a => new[] { a.Key, a.Value }), "--token-env", "KF_EXIT_TEST_UNSET"]);

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, message.Replace("{dir}", _directory, StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(_directory, "ledger.db")), "nothing is created when an argument is unusable");
    }

    [Fact]
    public async Task Inspect_InputMissingOrAFolder_Exit1InOneLine()
    {
        var missing = await CliRunner.RunAsync("inspect", "-i", Path.Combine(_directory, "nope.jsonl"));
        var folder = await CliRunner.RunAsync("inspect", "-i", _directory);

        Assert.Equal(1, missing.ExitCode);
        AssertOneLine(missing.Error, "--input: ", "does not exist");
        Assert.Equal(1, folder.ExitCode);
        AssertOneLine(folder.Error, "--input: ", "is a folder");
    }

    [Fact]
    public async Task Inspect_ArgumentErrors_Exit2InOneLine()
    {
        var missing = await CliRunner.RunAsync("inspect");
        var unknown = await CliRunner.RunAsync("inspect", "-i", Input, "--bogus");

        Assert.Equal(2, missing.ExitCode);
        AssertOneLine(missing.Error, "kiteflow inspect: Option '--input' is required.");
        Assert.Equal(2, unknown.ExitCode);
        AssertOneLine(unknown.Error, "kiteflow inspect: ", "'--bogus'");
    }

    [Fact]
    public async Task Demo_OutputIsAFile_Exit1InOneLine()
    {
        var file = Path.Combine(_directory, "file.txt");
        await File.WriteAllTextAsync(file, "x");

        var (exitCode, _, error) = await CliRunner.RunAsync("demo", "--output", file);

        Assert.Equal(1, exitCode);
        AssertOneLine(error, "--output: ", "is a file");
    }

    [Fact]
    public async Task Demo_UnknownOption_Exit2InOneLine()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("demo", "--bogus");

        Assert.Equal(2, exitCode);
        AssertOneLine(error, "kiteflow demo: ", "'--bogus'");
    }

    [Theory]
    [InlineData("--port", "abc", "--port: 'abc' is not a whole number; give a whole number from 0 to 65535")]
    [InlineData("--port", "70000", "--port: 70000 is out of range")]
    [InlineData("--seed-random", "x", "--seed-random: 'x' is not a whole number")]
    [InlineData("--rate-limit-window", "rolling", "--rate-limit-window: 'rolling' is not fixed or sliding")]
    [InlineData("--rate-limit", "fast", "--rate-limit: 'fast' is not N/Ws")]
    public async Task Emulator_ArgumentError_Exit2InOneLine(string option, string value, string message)
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("emulator", option, value);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, message);
        Assert.DoesNotContain("System.", error);
    }

    [Theory]
    [InlineData("--seed", "nope.json", "does not exist")]
    [InlineData("--faults", "", "is a folder")]
    public async Task Emulator_FileMissingOrAFolder_Exit1InOneLine(string option, string path, string reason)
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("emulator", option, Path.Combine(_directory, path));

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, $"{option}: ", reason);
    }

    [Fact]
    public async Task Emulator_PortTaken_Exit1InOneLine()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        // A real process: were the port not refused, the emulator would run until killed (by the runner's timeout).
        var (exitCode, output, error) = await CliRunner.RunProcessAsync(["emulator", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], _directory);

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        AssertOneLine(error, $"the sandbox could not listen on 127.0.0.1:{port}");
    }

    [Fact]
    public async Task Credentials_ArgumentErrors_Exit2InOneLine()
    {
        var unknown = await CliRunner.RunAsync("credentials", "list", "--bogus");
        var missing = await CliRunner.RunAsync("credentials", "check");

        Assert.Equal(2, unknown.ExitCode);
        AssertOneLine(unknown.Error, "kiteflow credentials list: ", "'--bogus'");
        Assert.Equal(2, missing.ExitCode);
        AssertOneLine(missing.Error, "kiteflow credentials check: ", "NAME");
    }

    [Fact]
    public async Task NoCommand_Exit2InOneLine()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync();

        Assert.Equal(2, exitCode);
        AssertOneLine(error, "See 'kiteflow --help'.");
    }

    [Fact]
    public async Task Help_Exit0()
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("send", "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("--token-env", output);
        Assert.Empty(error);
    }

    [Fact]
    public async Task InvokeAsync_CommandThrowsUnexpectedly_Exit1InOneLineNamingTheCommandAndTheFailure()
    {
        const string token = "bkua_0123456789abcdef0123456789abcdef01234567";
        var boom = new Command("boom");
        boom.SetAction(int (_) => throw new InvalidOperationException($"the ledger went away\nwhile sending with {token}"));
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await KiteflowCommandLine.InvokeAsync(new RootCommand { boom }, ["boom"], output, error);

        Assert.Equal(1, exitCode);
        AssertOneLine(error.ToString(), "kiteflow boom failed: the ledger went away while sending with •••• (InvalidOperationException;");
        Assert.DoesNotContain(token, error.ToString());
    }

    [Fact]
    public async Task InvokeAsync_AsyncCommandThrowsUnexpectedly_Exit1InOneLine()
    {
        var boom = new Command("boom");
        boom.SetAction(async (_, cancellationToken) =>
        {
            await Task.Yield();
            throw new IOException("No space left on device");
        });
        var error = new StringWriter();

        var exitCode = await KiteflowCommandLine.InvokeAsync(new RootCommand { boom }, ["boom"], new StringWriter(), error);

        Assert.Equal(1, exitCode);
        AssertOneLine(error.ToString(), "kiteflow boom failed: No space left on device (IOException;");
    }

    /// <summary>Exactly one non-empty line, holding every fragment, and nothing of a stack trace.</summary>
    internal static void AssertOneLine(string error, params string[] fragments)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line, got {lines.Length}:\n{error}");
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, lines[0]);
        }

        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Unhandled exception", error);
    }
}
