using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Cli.Commands;
using Kiteflow.Sandbox;

namespace Kiteflow.Cli.Tests;

public sealed class TestCommandTests : IAsyncLifetime
{
    private const string Destination = """
        {"name":"trigger","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"]}
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-test-command-").FullName;
    private SandboxServer _sandbox = null!;

    public async Task InitializeAsync() => _sandbox = await SandboxServer.StartAsync(new SandboxOptions());

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Test_Sandbox_SendsTheFirstRequestOnce_ShowsRequestAndAnswer_ExitZero()
    {
        var (exitCode, output, error) = await TestAsync();

        Assert.True(exitCode == ExitCodes.Success, error);
        var build = Assert.Single(Builds());
        Assert.Equal(("web", "0000000000000000000000000000000000000000"), ((string)build["pipeline"]!, (string)build["commit"]!));
        Assert.StartsWith("kftest", (string)build["meta_data"]!["kiteflow_delivery_id"]!);
        Assert.Contains("Request · record 0", output);
        Assert.Contains($"POST {_sandbox.BaseAddress.ToString().TrimEnd('/')}/v2/organizations/acme/pipelines/web/builds", output);
        Assert.Contains("Authorization: Bearer ••••", output);
        Assert.Contains("Response 201", output);
        Assert.Contains("\"number\": 1", output);
        Assert.DoesNotContain(SandboxServer.DefaultToken, output + error);
    }

    [Fact]
    public async Task Test_ChosenRecordAndEditedBody_SendsThatRecordsRequestWithThatBody_Json()
    {
        const string Edited = """{"commit":"abcdef0000000000000000000000000000000000","branch":"edited","message":"by hand"}""";
        var body = Write("body.json", Edited);

        var (exitCode, output, error) = await TestAsync(record: 2, body: body, json: true);

        Assert.True(exitCode == ExitCodes.Success, error);
        var build = Assert.Single(Builds());
        Assert.Equal(("docs", "edited", "by hand"), ((string)build["pipeline"]!, (string)build["branch"]!, (string)build["message"]!));
        var answer = JsonNode.Parse(output)!;
        Assert.Equal([2], answer["request"]!["records"]!.AsArray().Select(r => (int)r!));
        Assert.True((bool)answer["request"]!["bodyEdited"]!);
        Assert.Equal(("answered", 201), ((string)answer["outcome"]!, (int)answer["response"]!["status"]!));
        using var http = new HttpClient();
        var received = JsonNode.Parse(await http.GetStringAsync(new Uri(_sandbox.BaseAddress, "/_sandbox/requests")))!;
        Assert.Contains(received["requests"]!.AsArray(), r => (string?)r!["body"] == Edited);
    }

    [Fact]
    public async Task Test_BodyThatIsNotJson_ExitTwo_NothingSent()
    {
        var (exitCode, _, error) = await TestAsync(body: Write("body.json", "{\"commit\": "));

        Assert.Equal(ExitCodes.InvalidSettings, exitCode);
        Assert.Contains("--body: The edited body is not valid JSON", error);
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Test_RecordThatIsNotThereOrRejected_ExitTwo_NothingSent()
    {
        var (beyond, _, beyondError) = await TestAsync(record: 7);
        var (rejected, _, rejectedError) = await TestAsync(records: Records(2) + "\n{\"org\":\"acme\",\"commit\":\"x\"}", record: 2);

        Assert.Equal(ExitCodes.InvalidSettings, beyond);
        Assert.Contains("--record: There is no record 7", beyondError);
        Assert.Equal(ExitCodes.InvalidSettings, rejected);
        Assert.Contains("--record: Record 2 makes no request: it is rejected at template", rejectedError);
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Test_RefusedByTheApi_ShowsStatusAndMessage_ExitThree()
    {
        var destination = Destination.Replace("pipelines/{pipeline}", "pipelines/missing-{pipeline}", StringComparison.Ordinal);

        var (exitCode, output, _) = await TestAsync(destinationJson: destination);

        Assert.Equal(ExitCodes.SomeRecordsNotDelivered, exitCode);
        Assert.Contains("Response 404", output);
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Test_NotTheSandbox_OnATerminal_AnsweredNo_ShowsTheCaution_SendsNothing_ExitOne()
    {
        // A loopback proxy counts as the sandbox; a name that does not resolve stands for Buildkite, and is never reached.
        var (exitCode, output, error) = await TestAsync(apiBase: new Uri("https://buildkite.invalid"), terminal: new StringReader("n\n"));

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Contains("This sends a real request to https://buildkite.invalid", error);
        Assert.Contains("Send it? [y/N]", error);
        Assert.Contains("not sent", error);
        Assert.Contains("Request · record 0", output);
        Assert.DoesNotContain("Response", output);
    }

    [Fact]
    public async Task Test_NotTheSandbox_WithoutATerminal_AndWithoutYes_RefusesInOneLine_ExitTwo()
    {
        var destination = Write("destination.json", Destination);
        var input = Write("input.jsonl", Records(1));

        var (exitCode, _, error) = await CliRunner.RunProcessAsync(
            ["test", "-d", destination, "-i", input, "--api-base", "https://buildkite.invalid"],
            _directory,
            new Dictionary<string, string?> { ["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken, ["KITEFLOW_HOME"] = _directory });

        Assert.Equal(ExitCodes.InvalidSettings, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kiteflow test: not sent: This sends a real request to https://buildkite.invalid", line);
        Assert.EndsWith("add --yes to send it.", line);
        Assert.DoesNotContain(SandboxServer.DefaultToken, error);
    }

    [Fact]
    public async Task Test_AsAProcess_AgainstTheSandbox_ExitZero()
    {
        var destination = Write("destination.json", Destination);
        var input = Write("input.jsonl", Records(2));

        var (exitCode, output, error) = await CliRunner.RunProcessAsync(
            ["test", "-d", destination, "-i", input, "--api-base", _sandbox.BaseAddress.ToString(), "--record", "1"],
            _directory,
            new Dictionary<string, string?> { ["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken, ["KITEFLOW_HOME"] = _directory });

        Assert.True(exitCode == 0, error);
        Assert.Contains("Response 201", output);
        Assert.Equal("api", (string?)Assert.Single(Builds())["pipeline"]);
    }

    private async Task<(int ExitCode, string Output, string Error)> TestAsync(string? destinationJson = null, string? records = null, int? record = null, string? body = null, bool json = false, Uri? apiBase = null, TextReader? terminal = null)
    {
        var destination = Write("destination.json", destinationJson ?? Destination);
        var input = Write("input.jsonl", records ?? Records(3));
        var output = new StringWriter();
        var error = new StringWriter();
        var request = new TestRequest(new FileInfo(destination), input, null, apiBase ?? _sandbox.BaseAddress, record, body is null ? null : new FileInfo(body), null, null, Yes: false, json);
        var exitCode = await TestCommand.RunAsync(request, output, error, terminal, name => name == "BUILDKITE_API_TOKEN" ? SandboxServer.DefaultToken : null, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private List<JsonNode> Builds() =>
        JsonNode.Parse(_sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    private static string Records(int count) => string.Join('\n', Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new
    {
        org = "acme",
        pipeline = new[] { "web", "api", "docs" }[i % 3],
        commit = $"{i:x8}00000000000000000000000000000000",
        branch = "main",
        message = $"row {i}",
    })));

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
