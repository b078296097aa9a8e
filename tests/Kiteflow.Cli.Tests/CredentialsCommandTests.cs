using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Sandbox;

namespace Kiteflow.Cli.Tests;

/// <summary>
/// Tests that set process-wide environment variables (KITEFLOW_HOME, KITEFLOW_MASTER_KEY): this collection runs
/// alone, never beside another test class, so no other test sees them changed.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

[Collection(ProcessEnvironmentCollection.Name)]
public sealed class CredentialsCommandTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"kf-cli-credentials-{Guid.NewGuid():N}");
    private readonly string? _savedHome = Environment.GetEnvironmentVariable(CredentialStore.HomeVariable);
    private readonly string? _savedKey = Environment.GetEnvironmentVariable(CredentialStore.MasterKeyVariable);
    private readonly List<string> _variables = [];
    private readonly List<string> _secrets = [];
    private static int _variableCount;
    private SandboxServer _sandbox = null!;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(CredentialStore.HomeVariable, _home);
        Environment.SetEnvironmentVariable(CredentialStore.MasterKeyVariable, null);
        _sandbox = await SandboxServer.StartAsync(new SandboxOptions());
    }

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        Environment.SetEnvironmentVariable(CredentialStore.HomeVariable, _savedHome);
        Environment.SetEnvironmentVariable(CredentialStore.MasterKeyVariable, _savedKey);
        _variables.ForEach(v => Environment.SetEnvironmentVariable(v, null));
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    private string SandboxBase => _sandbox.BaseAddress.ToString().TrimEnd('/');

    /// <summary>A fresh token the sandbox accepts with <paramref name="scopes"/>, exported in a fresh variable; returns the variable's name.</summary>
    private string ExportSandboxToken(string[] scopes, out string token, string? description = null)
    {
        token = $"bkua_cli_{Guid.NewGuid():N}";
        _sandbox.AddToken(new SandboxToken(token, scopes) { Description = description });
        return Export(token);
    }

    private string Export(string token)
    {
        // A counter, not a Guid: a name holding 32 hex digits looks like a token, and kiteflow refuses it as a name.
        var variable = $"KF_TEST_TOKEN_{Interlocked.Increment(ref _variableCount)}";
        Environment.SetEnvironmentVariable(variable, token);
        _variables.Add(variable);
        _secrets.Add(token);
        return variable;
    }

    /// <summary>Runs kiteflow and checks that no token this test made appears on stdout or stderr.</summary>
    private async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);
        foreach (var secret in _secrets)
        {
            Assert.DoesNotContain(secret, result.Output);
            Assert.DoesNotContain(secret, result.Error);
        }

        return result;
    }

    [Fact]
    public async Task AddListRemove_StoresUnderKiteflowHomeAndNeverShowsTheToken()
    {
        var variable = ExportSandboxToken(["read_builds"], out var token);

        var added = await RunAsync("credentials", "add", "sandbox", "--token-env", variable, "--api-base", SandboxBase);
        var listed = await RunAsync("credentials", "list");
        var removed = await RunAsync("credentials", "remove", "sandbox");
        var after = await RunAsync("credentials", "list");

        Assert.Equal((0, string.Empty), (added.ExitCode, added.Error));
        Assert.Contains($"Stored credential sandbox for {SandboxBase}, encrypted, in {Path.Combine(_home, "credentials.json")}.", added.Output);
        Assert.Contains($"A new master key was made in {Path.Combine(_home, "key")}", added.Output);
        Assert.True(File.Exists(Path.Combine(_home, "key")));
        Assert.Equal(0, listed.ExitCode);
        Assert.Matches($@"NAME\s+API BASE\s+CREATED\nsandbox\s+{SandboxBase.Replace(".", "\\.", StringComparison.Ordinal)}\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ", listed.Output.ReplaceLineEndings("\n"));
        Assert.Equal(0, removed.ExitCode);
        Assert.Contains("Removed credential sandbox", removed.Output);
        Assert.Contains("No credentials in", after.Output);
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(Path.Combine(_home, "credentials.json")));
    }

    [Fact]
    public async Task ListJson_GivesNameApiBaseAndCreatedOnly()
    {
        await RunAsync("credentials", "add", "acme", "--token-env", Export("bkua_listjson_0123456789abcdef"));
        await RunAsync("credentials", "add", "local", "--token-env", Export("bkua_listjson_fedcba9876543210"), "--api-base", "http://localhost:9999/");

        var (exitCode, output, _) = await RunAsync("credentials", "list", "--json");

        Assert.Equal(0, exitCode);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(Path.Combine(_home, "credentials.json"), document.RootElement.GetProperty("store").GetString());
        var credentials = document.RootElement.GetProperty("credentials").EnumerateArray().ToList();
        Assert.Equal(["acme", "local"], credentials.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(["https://api.buildkite.com", "http://localhost:9999"], credentials.Select(c => c.GetProperty("apiBase").GetString()));
        Assert.All(credentials, c => Assert.Equal(["name", "apiBase", "createdAt"], c.EnumerateObject().Select(p => p.Name)));
        Assert.All(credentials, c => c.GetProperty("createdAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Check_SandboxToken_ShowsScopesUserAndDescription()
    {
        var variable = ExportSandboxToken(["read_builds", "write_builds"], out _, "Release automation");
        await RunAsync("credentials", "add", "sandbox", "--token-env", variable, "--api-base", SandboxBase);

        var (exitCode, output, error) = await RunAsync("credentials", "check", "sandbox");

        Assert.Equal((0, string.Empty), (exitCode, error));
        Assert.Contains($"Credential sandbox: {SandboxBase}", output);
        Assert.Matches(@"scopes\s+read_builds, write_builds", output);
        Assert.Matches(@"description\s+Release automation", output);
        Assert.Matches(@"user\s+.+ <.+@.+>", output);
        Assert.Matches(@"expires\s+never", output);
    }

    [Fact]
    public async Task CheckJson_SandboxToken_GivesTheDetails()
    {
        var variable = ExportSandboxToken(["write_pipelines"], out _);
        await RunAsync("credentials", "add", "sandbox", "--token-env", variable, "--api-base", SandboxBase);

        var (exitCode, output, _) = await RunAsync("credentials", "check", "sandbox", "--json");

        Assert.Equal(0, exitCode);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Equal("valid", root.GetProperty("status").GetString());
        Assert.Equal(200, root.GetProperty("httpStatus").GetInt32());
        Assert.Equal(["write_pipelines"], root.GetProperty("details").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Check_RevokedToken_Exits1SayingItWasRefused()
    {
        var variable = ExportSandboxToken(["read_builds"], out var token);
        await RunAsync("credentials", "add", "sandbox", "--token-env", variable, "--api-base", SandboxBase);
        using (var http = new HttpClient())
        using (var revoke = new HttpRequestMessage(HttpMethod.Delete, new Uri(_sandbox.BaseAddress, "v2/access-token")))
        {
            revoke.Headers.Authorization = new("Bearer", token);
            using var revoked = await http.SendAsync(revoke);
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        var (exitCode, output, error) = await RunAsync("credentials", "check", "sandbox");

        Assert.Equal(1, exitCode);
        Assert.Equal(string.Empty, output);
        Assert.Contains("the token was refused (revoked, expired or mistyped)", error);
    }

    [Fact]
    public async Task Check_NothingListening_Exits1SayingItCouldNotBeReached()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await RunAsync("credentials", "add", "gone", "--token-env", Export("bkua_unreachable_0123456789"), "--api-base", $"http://127.0.0.1:{port}");

        var (exitCode, _, error) = await RunAsync("credentials", "check", "gone");

        Assert.Equal(1, exitCode);
        Assert.Contains($"http://127.0.0.1:{port} could not be reached", error);
    }

    [Fact]
    public async Task Check_WithAnotherMasterKey_Exits1WithTheWrongKeyMessage()
    {
        Environment.SetEnvironmentVariable(CredentialStore.MasterKeyVariable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        await RunAsync("credentials", "add", "acme", "--token-env", Export("bkua_wrongkey_0123456789abcdef"));
        Environment.SetEnvironmentVariable(CredentialStore.MasterKeyVariable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        var (exitCode, _, error) = await RunAsync("credentials", "check", "acme");

        Assert.Equal(1, exitCode);
        Assert.Contains("were stored with another master key", error);
        Assert.Contains("set KITEFLOW_MASTER_KEY to that key or remove and add them again", error);
    }

    [Fact]
    public async Task Add_WithAnotherMasterKeyThanTheStores_Exits1_AndStoresNothing()
    {
        Environment.SetEnvironmentVariable(CredentialStore.MasterKeyVariable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        await RunAsync("credentials", "add", "acme", "--token-env", Export("bkua_firstkey_0123456789abcdef"));
        Environment.SetEnvironmentVariable(CredentialStore.MasterKeyVariable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        var (exitCode, output, error) = await RunAsync("credentials", "add", "other", "--token-env", Export("bkua_secondkey_0123456789abcdef"));

        Assert.Equal(1, exitCode);
        Assert.Contains("another master key than KITEFLOW_MASTER_KEY ('acme' among them)", error);
        Assert.DoesNotContain("Stored credential", output);
        var (_, list, _) = await RunAsync("credentials", "list");
        Assert.DoesNotContain("other", list);
    }

    [Fact]
    public async Task Add_MalformedMasterKey_Exits1SayingHowToMakeOne()
    {
        Environment.SetEnvironmentVariable(CredentialStore.MasterKeyVariable, "hunter2");

        var (exitCode, _, error) = await RunAsync("credentials", "add", "acme", "--token-env", Export("bkua_badkey_0123456789abcdef"));

        Assert.Equal(1, exitCode);
        Assert.Contains("KITEFLOW_MASTER_KEY is not a master key", error);
        Assert.Contains("openssl rand -base64 32", error);
        Assert.DoesNotContain("hunter2", error);
    }

    [Fact]
    public async Task Add_VariableNotSetOrEmpty_Exits2AndStoresNothing()
    {
        var unset = $"KF_TEST_UNSET_{Interlocked.Increment(ref _variableCount)}";
        var empty = Export("  ");

        var notSet = await RunAsync("credentials", "add", "acme", "--token-env", unset);
        var blank = await RunAsync("credentials", "add", "acme", "--token-env", empty);

        Assert.Equal(2, notSet.ExitCode);
        Assert.Contains($"the environment variable {unset} is not set", notSet.Error);
        Assert.Equal(2, blank.ExitCode);
        Assert.Contains($"the environment variable {empty} is empty", blank.Error);
        Assert.False(Directory.Exists(_home));
    }

    [Theory]
    [InlineData("bkua_0123456789abcdef0123456789abcdef01234567")]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    [InlineData("my-token-value")]
    public async Task Add_TokenGivenInPlaceOfTheVariableName_Exits2WithoutRepeatingIt(string given)
    {
        _secrets.Add(given);

        var (exitCode, output, error) = await RunAsync("credentials", "add", "acme", "--token-env", given);

        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, output);
        Assert.Contains("--token-env: ", error);
        Assert.Contains("give the NAME of an environment variable that holds the token", error);
        Assert.Contains(given.StartsWith("my-", StringComparison.Ordinal) ? "what was given is not a variable name" : "that looks like a token, not a variable name", error);
    }

    [Fact]
    public async Task Add_TokenWithALineBreakInside_Exits2WithoutRepeatingIt()
    {
        var variable = Export("bkua_first_half\nbkua_second_half");

        var (exitCode, _, error) = await RunAsync("credentials", "add", "acme", "--token-env", variable);

        Assert.Equal(2, exitCode);
        Assert.Contains("control character", error);
        Assert.DoesNotContain("half", error);
    }

    [Fact]
    public async Task Add_DuplicateName_Exits2UnlessReplace()
    {
        var first = ExportSandboxToken(["read_builds"], out _);
        var second = ExportSandboxToken(["write_builds"], out _);
        await RunAsync("credentials", "add", "sandbox", "--token-env", first, "--api-base", SandboxBase);

        var duplicate = await RunAsync("credentials", "add", "sandbox", "--token-env", second, "--api-base", SandboxBase);
        var replaced = await RunAsync("credentials", "add", "sandbox", "--token-env", second, "--api-base", SandboxBase, "--replace");
        var check = await RunAsync("credentials", "check", "sandbox");

        Assert.Equal(2, duplicate.ExitCode);
        Assert.Contains("a credential named 'sandbox' already exists", duplicate.Error);
        Assert.Contains("--replace", duplicate.Error);
        Assert.Equal(0, replaced.ExitCode);
        Assert.Matches(@"scopes\s+write_builds\n", check.Output.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("http://api.example.com", "plain http")]
    [InlineData("https://api.buildkite.com/v2", "ends with /v2")]
    [InlineData("not a url", "is not a URL")]
    public async Task Add_UnacceptableApiBase_Exits2(string apiBase, string problem)
    {
        var (exitCode, _, error) = await RunAsync("credentials", "add", "acme", "--token-env", Export("bkua_apibase_0123456789"), "--api-base", apiBase);

        Assert.Equal(2, exitCode);
        Assert.Contains($"--api-base: ", error);
        Assert.Contains(problem, error);
        Assert.False(Directory.Exists(_home));
    }

    [Fact]
    public async Task Add_InvalidNameAndMissingVariable_ReportsBoth()
    {
        var (exitCode, _, error) = await RunAsync("credentials", "add", "../etc", "--token-env", $"KF_TEST_UNSET_{Interlocked.Increment(ref _variableCount)}");

        Assert.Equal(2, exitCode);
        Assert.Contains("NAME: '../etc' is not a credential name", error);
        Assert.Contains("is not set", error);
    }

    [Fact]
    public async Task CheckAndRemove_UnknownName_Exit2()
    {
        var check = await RunAsync("credentials", "check", "nobody");
        var remove = await RunAsync("credentials", "remove", "nobody");

        Assert.Equal(2, check.ExitCode);
        Assert.Contains("no credential is named 'nobody'", check.Error);
        Assert.Equal(2, remove.ExitCode);
        Assert.Contains("no credential is named 'nobody'", remove.Error);
    }
}
