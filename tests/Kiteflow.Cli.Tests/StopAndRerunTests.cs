using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Cli.Tests;

/// <summary>
/// A real <c>kiteflow send</c> process stopped by SIGINT or SIGTERM, or killed with SIGKILL, and the same command run
/// again, against the sandbox over HTTP.
/// </summary>
public sealed class StopAndRerunTests : IAsyncLifetime
{
    private const string BuildsPath = "/v2/organizations/*/pipelines/*/builds";

    private const string Trigger = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":2,"organizationRequestsPerMinute":100000,"userRequestsPerMinute":100000}}
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-stop-").FullName;
    private SandboxServer _sandbox = null!;

    public async Task InitializeAsync() => _sandbox = await SandboxServer.StartAsync(new SandboxOptions
    {
        OrganizationLimit = RateLimitSetting.Parse("100000/60s"),
        UserLimit = RateLimitSetting.Parse("100000/60s"),
    });

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// Ctrl+C while annotations are in flight: they are answered and counted delivered (not cut and left possibly
    /// delivered), the summary is written, and the same command run again sends only the rest — each annotation once.
    /// </summary>
    [UnixFact]
    public async Task Send_Sigint_AnnotationsInFlightAreAnswered_SummaryWritten_RerunSendsOnlyTheRest()
    {
        await TriggerOneBuildAsync();
        _sandbox.SetFaults([new SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds/*/annotations", When = SandboxFaultWhen.After, Action = SandboxFaultAction.Delay, DelayMs = 1500 }]);
        var destination = Write("annotate.json", """
            {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/{n}/annotations","excludeAttributes":["n"],
             "delivery":{"concurrency":2,"maxAttempts":3,"organizationRequestsPerMinute":100000,"userRequestsPerMinute":100000}}
            """);
        var input = Write("annotations.jsonl", string.Join('\n', Enumerable.Range(0, 8).Select(i => $$"""{"n":1,"body":"note {{i}}","context":"c{{i}}"}""")));
        string[] args = ["send", "-d", destination, "-i", input, "--api-base", _sandbox.BaseAddress.ToString(), "--ledger", PathOf("ledger.db"), "--summary-json", PathOf("summary.json")];

        using (var first = Start(args))
        {
            await first.WaitUntilAsync(() => Requests().Any(r => ((string?)r["fault"] ?? string.Empty).Contains("delay", StringComparison.Ordinal)), "an annotation in flight");
            first.Signal("INT");
            var (exitCode, output, error) = await first.WaitAsync();

            Assert.True(exitCode == 1, $"exit {exitCode}: {output}\n{error}");
            Assert.Contains("Stopped:", output);
            var summary = Summary();
            Assert.Equal("stopped", (string?)summary["status"]);
            Assert.InRange((int)summary["delivered"]!, 1, 7);
            Assert.Equal(0, (int)summary["possiblyDelivered"]!);
            Assert.Equal((int)summary["records"]!, (int)summary["delivered"]! + (int)summary["pending"]!);
        }

        _sandbox.ClearFaults();
        using var second = Start(args);
        var (again, againOutput, againError) = await second.WaitAsync();

        Assert.True(again == 0, $"exit {again}: {againOutput}\n{againError}");
        var final = Summary();
        Assert.Equal((8, 8, 0), ((int)final["records"]!, (int)final["delivered"]!, (int)final["possiblyDelivered"]!));
        Assert.Equal(8, JsonNode.Parse(_sandbox.GetStateJson())!["organizations"]![0]!["annotations"]!.AsArray().Count);
    }

    /// <summary>
    /// SIGTERM mid-run gives back the batches marked in flight but never sent, so the same command run again sends
    /// each remaining record once and looks nothing up; its responses explain every request it counts.
    /// </summary>
    [UnixFact]
    public async Task Send_Sigterm_RunAgain_SendsEachRemainingRecordOnce_WithoutLookups()
    {
        _sandbox.SetFaults([new SandboxFaultRule { Method = "POST", Path = BuildsPath, Action = SandboxFaultAction.Delay, DelayMs = 150 }]);
        string[] args = ["send", "-d", Write("destination.json", Trigger), "-i", Write("input.jsonl", Records(40)), "--api-base", _sandbox.BaseAddress.ToString(), "--ledger", PathOf("ledger.db"), "--summary-json", PathOf("summary.json")];

        using (var first = Start(args))
        {
            await first.WaitUntilAsync(() => Builds().Count >= 6, "six builds");
            first.Signal("TERM");
            var (exitCode, output, error) = await first.WaitAsync();
            Assert.True(exitCode == 1, $"exit {exitCode}: {output}\n{error}");
        }

        var stopped = Summary();
        Assert.Equal("stopped", (string?)stopped["status"]);
        var delivered = Builds().Count;
        Assert.Equal(delivered, (int)stopped["delivered"]!);
        _sandbox.ClearFaults();
        var before = Requests().Count;

        using var second = Start([.. args, "--responses", PathOf("responses.jsonl")]);
        var (again, againOutput, againError) = await second.WaitAsync();

        Assert.True(again == 0, $"exit {again}: {againOutput}\n{againError}");
        var rerun = Requests().Skip(before).ToList();
        Assert.DoesNotContain(rerun, r => ((string?)r["query"] ?? string.Empty).Contains("kiteflow_delivery_id", StringComparison.Ordinal));
        Assert.Equal(40 - delivered, rerun.Count(r => (string?)r["method"] == "POST"));
        AssertOneBuildPerRecord(40);
        var summary = Summary();
        Assert.Equal(40 - delivered, (int)summary["requests"]!);
        Assert.Equal(delivered, (int)summary["deliveredEarlier"]!);
        var lines = File.ReadLines(PathOf("responses.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal((int)summary["requests"]!, lines.Count(l => (string?)l["kind"] is "attempt" or "lookup"));
    }

    /// <summary>
    /// kill -9 mid-run: batches are marked in flight only as far ahead as the senders take them, so the same command
    /// run again looks up at most those that could have been sent (the channel's few and the two senders'), and
    /// still makes exactly one build per record.
    /// </summary>
    [Fact]
    public async Task Send_KilledThenRunAgain_LooksUpOnlyTheFewBatchesThatCouldHaveBeenSent()
    {
        _sandbox.SetFaults([new SandboxFaultRule { Method = "POST", Path = BuildsPath, Action = SandboxFaultAction.Delay, DelayMs = 100 }]);
        string[] args = ["send", "-d", Write("destination.json", Trigger), "-i", Write("input.jsonl", Records(80)), "--api-base", _sandbox.BaseAddress.ToString(), "--ledger", PathOf("ledger.db"), "--summary-json", PathOf("summary.json")];

        using (var first = Start(args))
        {
            await first.WaitUntilAsync(() => Builds().Count >= 10, "ten builds");
            first.Kill();
            await first.WaitAsync();
        }

        _sandbox.ClearFaults();
        var before = Requests().Count;
        using var second = Start(args);
        var (exitCode, output, error) = await second.WaitAsync();

        Assert.True(exitCode == 0, $"exit {exitCode}: {output}\n{error}");
        var lookups = Requests().Skip(before).Count(r => ((string?)r["query"] ?? string.Empty).Contains("kiteflow_delivery_id", StringComparison.Ordinal));
        Assert.True(lookups <= 10, $"the rerun looked up {lookups} batches; at most 10 (8 in the channel, 2 in the senders) can have been sent");
        AssertOneBuildPerRecord(80);
    }

    /// <summary>
    /// A process killed while writing a response record leaves a half line at the end of --responses: the same
    /// command run again cuts it off, says so, and appends whole lines, so the file stays valid JSON Lines.
    /// </summary>
    [Fact]
    public async Task Send_KilledWhileWritingResponses_RunAgain_ResponsesStayValidJsonLines()
    {
        _sandbox.SetFaults([new SandboxFaultRule { Method = "POST", Path = BuildsPath, Action = SandboxFaultAction.Delay, DelayMs = 50 }]);
        var responses = PathOf("responses.jsonl");
        string[] args = ["send", "-d", Write("destination.json", Trigger), "-i", Write("input.jsonl", Records(60)), "--api-base", _sandbox.BaseAddress.ToString(), "--ledger", PathOf("ledger.db"), "--responses", responses];

        using (var first = Start(args))
        {
            await first.WaitUntilAsync(() => Builds().Count >= 10, "ten builds");
            first.Kill();
            await first.WaitAsync();
        }

        // What a kill in the middle of a line's write leaves (the writes are whole lines, so the kill alone rarely does).
        await File.AppendAllTextAsync(responses, """{"kind":"attempt","destination":"x","request":{"method":"PO""");
        _sandbox.ClearFaults();

        using var second = Start(args);
        var (exitCode, output, error) = await second.WaitAsync();

        Assert.True(exitCode == 0, $"exit {exitCode}: {output}\n{error}");
        Assert.Contains("half-written line", error);
        var lines = await File.ReadAllLinesAsync(responses);
        Assert.All(lines, line => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(line).RootElement.ValueKind));
        Assert.DoesNotContain(lines, line => line.Contains("\"destination\":\"x\"", StringComparison.Ordinal));
        AssertOneBuildPerRecord(60);
    }

    private KiteflowProcess Start(string[] args) => KiteflowProcess.Start(_directory, args, new Dictionary<string, string>
    {
        ["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken,
        ["KITEFLOW_HOME"] = _directory,
    });

    private void AssertOneBuildPerRecord(int records)
    {
        var perId = Builds().GroupBy(b => (string?)b["meta_data"]!["kiteflow_delivery_id"]).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(records, perId.Count);
        Assert.All(perId, pair => Assert.True(pair.Value == 1, $"{pair.Key} made {pair.Value} builds"));
    }

    private async Task TriggerOneBuildAsync()
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_sandbox.BaseAddress, "/v2/organizations/acme/pipelines/web/builds"))
        {
            Content = JsonContent.Create(new { commit = "abcdef0123456789abcdef0123456789abcdef01", branch = "main" }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SandboxServer.DefaultToken);
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private List<JsonNode> Requests()
    {
        using var client = new HttpClient();
        var node = JsonNode.Parse(client.GetStringAsync(new Uri(_sandbox.BaseAddress, "/_sandbox/requests")).GetAwaiter().GetResult())!;
        var list = node is JsonArray array ? array : node["requests"]!.AsArray();
        return list.Select(r => r!).ToList();
    }

    private List<JsonNode> Builds() =>
        JsonNode.Parse(_sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    private JsonNode Summary() => JsonNode.Parse(File.ReadAllText(PathOf("summary.json")))!;

    private string PathOf(string name) => Path.Combine(_directory, name);

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
        var path = PathOf(name);
        File.WriteAllText(path, content);
        return path;
    }
}
