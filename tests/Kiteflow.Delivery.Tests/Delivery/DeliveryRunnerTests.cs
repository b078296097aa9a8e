using System.Text.Json;
using Kiteflow.Sandbox;

namespace Kiteflow.Delivery.Tests.Delivery;

/// <summary>Delivery end to end against the real sandbox over HTTP.</summary>
public sealed class DeliveryRunnerTests
{
    [Fact]
    public async Task Send_AllRecords_OneBuildEach_SummaryAddsUp()
    {
        await using var run = await SandboxRun.StartAsync();

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(30));

        Assert.Equal((30L, 30L, 0L, 0L), (summary.Records, summary.Delivered, summary.Rejected, summary.PossiblyDelivered));
        Assert.Equal(30, summary.Requests);
        var perId = run.BuildsPerDeliveryId();
        Assert.Equal(30, perId.Count);
        Assert.All(perId.Values, count => Assert.Equal(1, count));
        var builds = run.Builds();
        Assert.All(builds, b => Assert.Equal("api", (string?)b["source"]));
        Assert.Contains(builds, b => (string?)b["message"] == "Build 7 🚀" && (string?)b["meta_data"]!["row"] == "7");
    }

    [Fact]
    public async Task Send_Faults_BeforeAndAfterProcessing_EveryRecordDeliveredExactlyOnce()
    {
        await using var run = await SandboxRun.StartAsync(options =>
        {
            options.RandomSeed = 20261126;
            var path = "/v2/organizations/*/pipelines/*/builds";
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = path, When = SandboxFaultWhen.Before, Probability = 0.2, Status = 503 });
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = path, When = SandboxFaultWhen.After, Probability = 0.04, Status = 502, Action = SandboxFaultAction.Respond });
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = path, When = SandboxFaultWhen.After, Probability = 0.04, Action = SandboxFaultAction.Drop });
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = path, When = SandboxFaultWhen.After, Probability = 0.03, Action = SandboxFaultAction.Hang });
        });

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(80));

        Assert.Equal((80L, 80L), (summary.Records, summary.Delivered));
        Assert.True(summary.Retries > 0, "the faults caused no retry");
        var perId = run.BuildsPerDeliveryId();
        Assert.Equal(80, perId.Count);
        Assert.All(perId, pair => Assert.True(pair.Value == 1, $"{pair.Key} made {pair.Value} builds"));

        // The faults that hit after processing were settled by a lookup, not by sending again.
        var requests = await run.RequestsAsync();
        Assert.Contains(requests, r => (string?)r["fault"] is { } fault && fault.Contains("after", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(requests, r => (string?)r["method"] == "GET" && ((string?)r["query"] ?? string.Empty).Contains("kiteflow_delivery_id", StringComparison.Ordinal));
    }

    /// <summary>
    /// The responses explain every request the summary counts: each attempt and each lookup by delivery id is a
    /// line of its own (kind attempt / lookup), and a create-build whose answer was lost ends with a line saying
    /// how it was settled (kind outcome), with the build the lookup found.
    /// </summary>
    [Fact]
    public async Task Send_AnswersLostAfterTheBuildWasMade_ResponsesHoldTheLookupsAndTheOutcome_OneLinePerRequest()
    {
        await using var run = await SandboxRun.StartAsync(options =>
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds", When = SandboxFaultWhen.After, Action = SandboxFaultAction.Drop, Count = 2 }));

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(6));

        Assert.Equal(6L, summary.Delivered);
        Assert.Equal(6, run.Builds().Count);
        var lines = SandboxRun.ReadLines(run.ResponsesPath);
        var attempts = lines.Where(l => (string?)l["kind"] == "attempt").ToList();
        var lookups = lines.Where(l => (string?)l["kind"] == "lookup").ToList();
        var outcomes = lines.Where(l => (string?)l["kind"] == "outcome").ToList();
        Assert.Equal(summary.Requests, attempts.Count + lookups.Count);
        Assert.Equal(lines.Count, attempts.Count + lookups.Count + outcomes.Count);
        Assert.Equal(2, lookups.Count);
        Assert.All(lookups, l =>
        {
            Assert.Equal("GET", (string?)l["request"]!["method"]);
            Assert.Contains("kiteflow_delivery_id", (string?)l["request"]!["url"]);
            Assert.Equal("Bearer ••••", (string?)l["request"]!["headers"]!["Authorization"]);
            Assert.Equal("found", (string?)l["outcome"]);
        });
        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, o =>
        {
            Assert.Equal("delivered (found by lookup)", (string?)o["outcome"]);
            Assert.NotNull(o["response"]!["body"]!["number"]);
            Assert.Equal(lookups.Select(l => l["records"]!.ToJsonString()).Order(), outcomes.Select(x => x["records"]!.ToJsonString()).Order());
        });
    }

    [Fact]
    public async Task Send_RefusedRecords_RejectedWithBuildkitesMessage_OthersDelivered()
    {
        await using var run = await SandboxRun.StartAsync();
        var records = string.Join('\n',
            SandboxRun.BuildRecords(1, "web"),
            SandboxRun.BuildRecords(1, "no-such-pipeline").Replace("\"commit\":\"00000000", "\"commit\":\"11111111", StringComparison.Ordinal),
            SandboxRun.BuildRecords(1, "api").Replace("\"commit\":\"00000000", "\"commit\":\"22222222", StringComparison.Ordinal));

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds, records);

        Assert.Equal((3L, 2L, 1L), (summary.Records, summary.Delivered, summary.Rejected));
        var rejected = Assert.Single(SandboxRun.ReadLines(run.RejectedPath));
        Assert.Equal(1, (int)rejected["record"]!);
        Assert.Equal(2, (int)rejected["line"]!);
        Assert.Equal("no-such-pipeline", (string?)rejected["data"]!["pipeline"]);
        Assert.Equal("http", (string?)rejected["error"]!["stage"]);
        Assert.Equal(404, (int)rejected["error"]!["status"]!);
        Assert.Contains("No pipeline found", (string?)rejected["error"]!["message"]);
        Assert.Equal("No pipeline found", (string?)rejected["error"]!["response"]!["message"]);
        Assert.Equal(2, run.Builds().Count);
    }

    [Fact]
    public async Task Send_PlannerRejections_WrittenWithTheRecord_AndCounted()
    {
        await using var run = await SandboxRun.StartAsync();
        var records = SandboxRun.BuildRecords(2, "web") + "\n{not json\n" + """{"org":"acme","pipeline":"web","commit":"abc"}""";

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds, records);

        Assert.Equal((4L, 2L, 2L), (summary.Records, summary.Delivered, summary.Rejected));
        var rejected = SandboxRun.ReadLines(run.RejectedPath);
        Assert.Equal(["read", "validate"], rejected.Select(r => (string?)r["error"]!["stage"]));
        Assert.Equal("{not json", (string?)rejected[0]["data"]);  // the text as it was, to repair and send again
        Assert.Equal("abc", (string?)rejected[1]["data"]!["commit"]);
        Assert.Contains("branch", (string?)rejected[1]["error"]!["message"]);
    }

    [Fact]
    public async Task Send_ScriptResultNested50000Deep_RejectedAtScript_RunEnds()
    {
        await using var run = await SandboxRun.StartAsync();
        var code = "function batch(records) { var o = {}; for (var i = 0; i < 50000; i++) { o = { a: o }; } return o; }";
        var destination = JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds", batching = new { enabled = true, batchSize = 2, algorithm = "code", code } });

        var summary = await run.SendAsync(destination, SandboxRun.BuildRecords(3, "web"));

        Assert.Equal((3L, 0L, 3L, 0L), (summary.Records, summary.Delivered, summary.Rejected, summary.Requests));
        var rejected = SandboxRun.ReadLines(run.RejectedPath);
        Assert.Equal(3, rejected.Count);
        Assert.All(rejected, r => Assert.Equal("script", (string?)r["error"]!["stage"]));
        Assert.Contains("nested deeper than 64 levels", (string?)rejected[0]["error"]!["message"]);
    }

    [Fact]
    public async Task Send_SameCommandAgain_SendsNothing_SummaryStillAddsUp()
    {
        await using var run = await SandboxRun.StartAsync();
        var records = SandboxRun.BuildRecords(12) + "\n{bad";

        var first = await run.SendAsync(SandboxRun.TriggerBuilds, records);
        var second = await run.SendAsync(SandboxRun.TriggerBuilds, records);

        Assert.Equal((13L, 12L, 1L), (first.Records, first.Delivered, first.Rejected));
        Assert.Equal((13L, 12L, 1L, 0L), (second.Records, second.Delivered, second.Rejected, second.Requests));
        Assert.Equal(12, run.Builds().Count);
    }

    [Fact]
    public async Task Send_TokenWithoutWriteBuilds_StopsBeforeAnyWrite()
    {
        await using var run = await SandboxRun.StartAsync(options => options.Tokens.Add(new SandboxToken("bkua_readonly_test_token_000000000000000", ["read_builds", "read_pipelines"])));

        var e = await Assert.ThrowsAsync<DeliveryStoppedException>(() => run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(3), token: "bkua_readonly_test_token_000000000000000"));

        Assert.Contains("write_builds", e.Message);
        Assert.DoesNotContain("bkua_readonly_test_token", e.Message);
        Assert.Empty(run.Builds());
        var requests = await run.RequestsAsync();
        Assert.All(requests, r => Assert.Equal("GET", (string?)r["method"]));
    }

    [Fact]
    public async Task Send_RefusedToken_StopsWithAClearMessage()
    {
        await using var run = await SandboxRun.StartAsync();

        var e = await Assert.ThrowsAsync<DeliveryStoppedException>(() => run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(1), token: "bkua_not_a_real_token_1234567890"));

        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("bkua_not_a_real_token", e.Message);
    }

    [Fact]
    public async Task Send_RateLimited_CompletesWithFew429s_AndWaitsForTheReset()
    {
        await using var run = await SandboxRun.StartAsync(options => options.UserLimit = RateLimitSetting.Parse("8/2s"));

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds.Replace("\"userRequestsPerMinute\":100000", "\"userRequestsPerMinute\":240", StringComparison.Ordinal), SandboxRun.BuildRecords(20));

        Assert.Equal(20L, summary.Delivered);
        Assert.True(summary.RateLimitWaits > 0, "the run never waited for a window");
        var requests = await run.RequestsAsync();
        var posts = requests.Where(r => (string?)r["method"] == "POST").ToList();
        var refused = posts.Count(r => (int)r["status"]! == 429);
        var windows = (int)Math.Ceiling(20 / 8.0);
        Assert.True(refused <= windows, $"{refused} requests were refused with 429 over about {windows} windows");

        // After every 429, nothing more was sent before the window it named had reset.
        for (var i = 0; i < requests.Count; i++)
        {
            if ((int)requests[i]["status"]! != 429)
            {
                continue;
            }

            var refusedAt = DateTimeOffset.Parse((string)requests[i]["time"]!, System.Globalization.CultureInfo.InvariantCulture);
            var next = requests.Skip(i + 1).FirstOrDefault(r => (string?)r["method"] == "POST");
            if (next is not null)
            {
                var windowStart = new DateTimeOffset(refusedAt.Ticks - (refusedAt.Ticks % TimeSpan.FromSeconds(2).Ticks), TimeSpan.Zero);
                Assert.True(DateTimeOffset.Parse((string)next["time"]!, System.Globalization.CultureInfo.InvariantCulture) >= windowStart.AddSeconds(2), "a request went before the window reset");
            }
        }
    }

    [Fact]
    public async Task Send_AmbiguousPostThatIsNotCreateBuild_PossiblyDelivered_NotResent()
    {
        await using var run = await SandboxRun.StartAsync(options =>
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds/*/annotations", When = SandboxFaultWhen.After, Action = SandboxFaultAction.Drop, Count = 1 }));
        await run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(1, "web"), inputName: "builds.jsonl");
        var annotate = """
            {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/{n}/annotations","excludeAttributes":["n"],
             "delivery":{"maxAttempts":3,"userRequestsPerMinute":100000,"organizationRequestsPerMinute":100000}}
            """;

        var summary = await run.SendAsync(annotate, """
            {"n":1,"body":"first","context":"a"}
            {"n":1,"body":"second","context":"b"}
            """, inputName: "annotations.jsonl");

        Assert.Equal((2L, 1L, 1L), (summary.Records, summary.Delivered, summary.PossiblyDelivered));
        var state = JsonDocument.Parse(run.Sandbox.GetStateJson()).RootElement.GetProperty("organizations")[0].GetProperty("annotations");
        Assert.Equal(2, state.GetArrayLength());  // the dropped one was created once and not sent again
        var flagged = Assert.Single(SandboxRun.ReadLines(run.RejectedPath));
        Assert.True((bool)flagged["error"]!["possiblyDelivered"]!);
        Assert.Contains("retryAmbiguousPosts", (string?)flagged["error"]!["message"]);
    }

    [Fact]
    public async Task Send_AmbiguousPostWithRetryAllowed_IsResent()
    {
        await using var run = await SandboxRun.StartAsync(options =>
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds/*/annotations", When = SandboxFaultWhen.After, Action = SandboxFaultAction.Drop, Count = 1 }));
        await run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(1, "web"), inputName: "builds.jsonl");
        var annotate = """
            {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/{n}/annotations","excludeAttributes":["n"],
             "delivery":{"maxAttempts":3,"retryAmbiguousPosts":true,"userRequestsPerMinute":100000,"organizationRequestsPerMinute":100000}}
            """;

        var summary = await run.SendAsync(annotate, """{"n":1,"body":"only","context":"a"}""", inputName: "annotations.jsonl");

        Assert.Equal(1L, summary.Delivered);
        Assert.Equal(1L, summary.Retries);
    }

    [Fact]
    public async Task Send_NoOutputOrErrorContainsTheToken()
    {
        const string token = "bkua_secret_token_for_leak_test_0123456789";
        await using var run = await SandboxRun.StartAsync(options =>
        {
            options.Tokens.Add(new SandboxToken(token, ["*"]));
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds", When = SandboxFaultWhen.Before, Count = 2, Status = 500 });
        });
        var records = SandboxRun.BuildRecords(5) + "\n" + SandboxRun.BuildRecords(1, "nope").Replace("00000000", "99999999", StringComparison.Ordinal) + "\n{broken";

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds, records, token);

        Assert.Equal(5L, summary.Delivered);
        foreach (var file in Directory.GetFiles(run.Directory))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(token)) < 0, $"{Path.GetFileName(file)} holds the token");
        }

        Assert.Contains("Bearer ••••", await File.ReadAllTextAsync(run.ResponsesPath));
        var log = await new HttpClient().GetStringAsync(new Uri(run.Sandbox.BaseAddress, "/_sandbox/requests"));
        Assert.Contains("Bearer", log);
    }

    [Fact]
    public async Task Send_ForwardUrl_EveryResponseRecordPostedThere_WithoutTheToken()
    {
        await using var run = await SandboxRun.StartAsync();
        var forward = new Uri(run.Sandbox.BaseAddress, "/forwarded-responses").ToString();
        var destination = SandboxRun.TriggerBuilds.Replace("\"delivery\":", $"\"responseWebhook\":{{\"enabled\":true,\"forwardUrl\":\"{forward}\"}},\"delivery\":", StringComparison.Ordinal);

        var summary = await run.SendAsync(destination, SandboxRun.BuildRecords(5));

        Assert.Equal(5L, summary.Delivered);
        var forwarded = (await run.RequestsAsync()).Where(r => (string?)r["path"] == "/forwarded-responses").ToList();
        Assert.Equal(5, forwarded.Count);
        Assert.All(forwarded, r =>
        {
            Assert.Equal("POST", (string?)r["method"]);
            Assert.Null(r["headers"]!["Authorization"]);
            var record = System.Text.Json.Nodes.JsonNode.Parse((string)r["body"]!)!;
            Assert.Equal(201, (int)record["response"]!["status"]!);
            Assert.Equal("Bearer ••••", (string?)record["request"]!["headers"]!["Authorization"]);
        });

        // The sandbox answers 404 to a path it does not know: counted as not accepted, after retries.
        Assert.Equal(0L, summary.ResponsesForwarded);
        Assert.Equal(5L, summary.ResponsesNotForwarded);
    }
}
