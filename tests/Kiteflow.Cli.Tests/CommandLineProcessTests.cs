using System.Security.Cryptography;
using Kiteflow.Sandbox;

namespace Kiteflow.Cli.Tests;

/// <summary>The built kiteflow executable, run as a user runs it: what it prints and the code it exits with.</summary>
public sealed class CommandLineProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-process-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Preview_DestinationMissing_OneLineExit1NoStackTrace()
    {
        var (exitCode, output, error) = await CliRunner.RunProcessAsync(["preview", "-d", "missing.json", "-i", CliRunner.Example("trigger-builds/builds.jsonl")], _directory);

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        ExitCodeTests.AssertOneLine(error, "kiteflow: --destination: ", "missing.json' does not exist");
    }

    [Fact]
    public async Task Preview_LimitNotAWholeNumber_Exit2SayingSo()
    {
        var (exitCode, _, error) = await CliRunner.RunProcessAsync(["preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "-n", "abc"], _directory);

        Assert.Equal(2, exitCode);
        ExitCodeTests.AssertOneLine(error, "--limit: 'abc' is not a whole number");
        Assert.DoesNotContain("System.Int32", error);
    }

    /// <summary>A failure no command expects (a ledger file that is not a database) is one line and exit 1.</summary>
    [Fact]
    public async Task Send_LedgerIsNotADatabase_OneLineNamingTheFailureExit1()
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions());
        var ledger = Path.Combine(_directory, "ledger.db");
        await File.WriteAllTextAsync(ledger, "these are notes, not a ledger\n");

        var (exitCode, _, error) = await CliRunner.RunProcessAsync(
            ["send", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "--api-base", sandbox.BaseAddress.ToString(), "--ledger", ledger],
            _directory,
            new Dictionary<string, string?> { ["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken, ["KITEFLOW_HOME"] = _directory });

        Assert.Equal(1, exitCode);
        var failure = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => !line.Contains("warning:", StringComparison.Ordinal));
        Assert.StartsWith("kiteflow: the ledger ", failure);
        Assert.Contains("not a database", failure);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain(SandboxServer.DefaultToken, error);
    }

    /// <summary>docs/credentials.md: a wrong master key is an error (1), not an argument error (2), for send as for check.</summary>
    [Fact]
    public async Task Send_CredentialStoredWithAnotherMasterKey_Exit1WithTheWrongKeyMessage()
    {
        const string token = "bkua_process_wrong_key_0123456789abcdef";
        var home = new Dictionary<string, string?>
        {
            ["KITEFLOW_HOME"] = _directory,
            ["KITEFLOW_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["KF_PROCESS_TOKEN"] = token,
        };
        var added = await CliRunner.RunProcessAsync(["credentials", "add", "acme", "--token-env", "KF_PROCESS_TOKEN"], _directory, home);
        Assert.True(added.ExitCode == 0, added.Error);
        home["KITEFLOW_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        var (exitCode, output, error) = await CliRunner.RunProcessAsync(
            ["send", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "--credential", "acme", "--ledger", Path.Combine(_directory, "ledger.db")],
            _directory,
            home);

        Assert.Equal(1, exitCode);
        Assert.Matches("^Failed: .*[Nn]othing was sent", output);  // the summary is written on every way out
        ExitCodeTests.AssertOneLine(error, "were stored with another master key", "set KITEFLOW_MASTER_KEY to that key or remove and add them again");
        Assert.DoesNotContain(token, error);
    }

    [Fact]
    public async Task Send_DataFolderIsAFile_Exit1InOneLine()
    {
        var home = Path.Combine(_directory, "home");
        await File.WriteAllTextAsync(home, "not a folder");

        var (exitCode, _, error) = await CliRunner.RunProcessAsync(
            ["send", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "--api-base", "http://127.0.0.1:9"],
            _directory,
            new Dictionary<string, string?> { ["KITEFLOW_HOME"] = home, ["BUILDKITE_API_TOKEN"] = "bkua_never_sent_0123456789" });

        Assert.Equal(1, exitCode);
        ExitCodeTests.AssertOneLine(error, $"the data folder '{home}' is a file, not a folder; point KITEFLOW_HOME at a folder, or give --ledger FILE.");
    }

    [Fact]
    public async Task Send_UnknownCredential_Exit2()
    {
        var (exitCode, _, error) = await CliRunner.RunProcessAsync(
            ["send", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "--credential", "nobody"],
            _directory,
            new Dictionary<string, string?> { ["KITEFLOW_HOME"] = _directory });

        Assert.Equal(2, exitCode);
        ExitCodeTests.AssertOneLine(error, "no credential is named 'nobody'", "kiteflow credentials list shows the names");
    }
}
