using System.Text.Json.Nodes;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Sandbox;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Delivery.Tests.Delivery;

/// <summary>Stopping a run, against the real sandbox over HTTP: what the ledger and the responses are left with.</summary>
public sealed class DeliveryStopTests
{
    private const string BuildsPath = "/v2/organizations/*/pipelines/*/builds";

    /// <summary>One attempt per batch, answered within a minute: a hanging request stays in flight until the run cuts it.</summary>
    private const string SlowTrigger = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":2,"maxAttempts":1,"timeoutSeconds":60,"organizationRequestsPerMinute":100000,"userRequestsPerMinute":100000}}
        """;

    /// <summary>
    /// An abort cuts the requests in flight: those stay in flight (they may have reached Buildkite), but the
    /// batches marked in flight ahead of sending that never left the process are given back, so the next
    /// run neither looks them up nor counts them possibly delivered.
    /// </summary>
    [Fact]
    public async Task Run_Aborted_OnlyTheBatchesThatWereSentStayInFlight()
    {
        await using var run = await SandboxRun.StartAsync(options =>
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = BuildsPath, Action = SandboxFaultAction.Hang }));
        using var abort = new CancellationTokenSource();

        var sending = run.SendAsync(SlowTrigger, SandboxRun.BuildRecords(40), cancellationToken: abort.Token);
        await run.WaitForRequestsAsync(requests => requests.Count(r => (string?)r["method"] == "POST") == 2);
        await abort.CancelAsync();
        try
        {
            await sending;
        }
        catch (OperationCanceledException)
        {
            // Before this fix an abort ended the run with a cancellation; the ledger is what this test is about.
        }

        var states = await run.LedgerStatesAsync(SlowTrigger, 40);
        Assert.Equal(2, states.Count(s => s == BatchState.InFlight));
        Assert.All(states.Where(s => s != BatchState.InFlight), s => Assert.True(s is null or BatchState.Pending, $"a batch never sent was left {s}"));
    }

    /// <summary>
    /// A batch answered 429 is waiting out the reset when the run is stopped: the 429 proves nothing was processed,
    /// so it goes back to pending instead of staying in flight (where the next run would look it up first).
    /// </summary>
    [Fact]
    public async Task Run_StoppedWhileWaitingOutA429_TheBatchGoesBackToPending()
    {
        await using var run = await SandboxRun.StartAsync(options => options.UserLimit = RateLimitSetting.Parse("2/60s"));
        // One sender: with two, the other batch's request could be on its way at the abort and rightly stay in flight.
        var unpaced = SlowTrigger.Replace("\"maxAttempts\":1", "\"maxAttempts\":1,\"pacing\":false", StringComparison.Ordinal).Replace("\"concurrency\":2", "\"concurrency\":1", StringComparison.Ordinal);
        using var abort = new CancellationTokenSource();

        // Four records against two requests a minute (the token check is one): a 429 comes even when the sandbox's
        // minute, aligned to the clock, turns over during the run.
        var sending = run.SendAsync(unpaced, SandboxRun.BuildRecords(4), cancellationToken: abort.Token);
        // The 429 read and recorded by kiteflow (not only answered by the sandbox): the batch now waits for the reset.
        await run.WaitUntilAsync(() => SandboxRun.ReadSharedLines(run.ResponsesPath).Any(l => l.Contains("\"outcome\":\"rate limited\"", StringComparison.Ordinal)));
        await abort.CancelAsync();
        try
        {
            await sending;
        }
        catch (OperationCanceledException)
        {
            // Before this fix an abort ended the run with a cancellation; the ledger is what this test is about.
        }

        var states = await run.LedgerStatesAsync(unpaced, 4);
        // Delivered before the limit was spent; the refused one back to pending; none left in flight.
        Assert.InRange(states.Count(s => s == BatchState.Delivered), 1, 2);
        Assert.True(states.Count(s => s == BatchState.Pending) >= 1, string.Join(", ", states));
        Assert.All(states, s => Assert.True(s is null or BatchState.Delivered or BatchState.Pending, $"{s}"));
    }

    /// <summary>
    /// A graceful stop lets the requests in flight be answered, but only for the grace period: a request that
    /// hangs longer is cut (on the run's clock), stays in flight, and the run still ends with its summary.
    /// </summary>
    [Fact]
    public async Task Run_StoppedGracefully_RequestsHangingPastTheGracePeriod_AreCutAndStayInFlight()
    {
        await using var run = await SandboxRun.StartAsync(options =>
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = BuildsPath, Action = SandboxFaultAction.Hang }));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var stop = new CancellationTokenSource();

        var sending = run.SendAsync(SlowTrigger, SandboxRun.BuildRecords(10), stopping: stop.Token, time: clock);
        await run.WaitForRequestsAsync(requests => requests.Count(r => (string?)r["method"] == "POST") == 2);
        await stop.CancelAsync();
        clock.Advance(TimeSpan.FromSeconds(10));
        var summary = await sending;

        Assert.Equal(DeliveryRunStatus.Stopped, summary.Status);
        Assert.Equal((0L, 0L, 0L), (summary.Delivered, summary.Rejected, summary.PossiblyDelivered));
        Assert.Equal(summary.Records, summary.Pending);
        Assert.Equal(2, summary.Requests);
        var states = await run.LedgerStatesAsync(SlowTrigger, 10);
        Assert.Equal(2, states.Count(s => s == BatchState.InFlight));
        Assert.DoesNotContain(states, s => s is BatchState.Delivered or BatchState.Rejected or BatchState.PossiblyDelivered);
        var lines = SandboxRun.ReadLines(run.ResponsesPath);
        Assert.Equal(2, lines.Count(l => (string?)l["kind"] == "attempt"));
        Assert.All(lines.Where(l => (string?)l["kind"] == "attempt"), l => Assert.Contains("stopped at once", (string?)l["error"]));
    }

    /// <summary>
    /// A graceful stop while a non-build POST is in flight: the request is answered and counted delivered, not
    /// cut and left possibly delivered; the batches never sent are left for the next run, which sends them once.
    /// </summary>
    [Fact]
    public async Task Run_StoppedGracefully_AnnotationInFlightIsAnswered_TheRestSentByTheNextRun()
    {
        const string annotations = "/v2/organizations/*/pipelines/*/builds/*/annotations";
        await using var run = await SandboxRun.StartAsync();
        await run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(1, "web"), inputName: "builds.jsonl");
        run.Sandbox.SetFaults([new SandboxFaultRule { Method = "POST", Path = annotations, When = SandboxFaultWhen.After, Action = SandboxFaultAction.Delay, DelayMs = 1500 }]);
        var annotate = """
            {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/{n}/annotations","excludeAttributes":["n"],
             "delivery":{"concurrency":2,"maxAttempts":3,"userRequestsPerMinute":100000,"organizationRequestsPerMinute":100000}}
            """;
        var records = string.Join('\n', Enumerable.Range(0, 6).Select(i => $$"""{"n":1,"body":"note {{i}}","context":"c{{i}}"}"""));
        using var stop = new CancellationTokenSource();

        var sending = run.SendAsync(annotate, records, inputName: "annotations.jsonl", stopping: stop.Token);
        await run.WaitForRequestsAsync(requests => requests.Any(r => ((string?)r["fault"] ?? string.Empty).Contains("delay", StringComparison.Ordinal)));
        await stop.CancelAsync();
        var first = await sending;

        Assert.Equal(DeliveryRunStatus.Stopped, first.Status);
        Assert.InRange(first.Delivered, 1, 5);
        Assert.Equal(0, first.PossiblyDelivered);
        Assert.Equal(first.Records, first.Delivered + first.Pending);

        run.Sandbox.ClearFaults();
        var second = await run.SendAsync(annotate, records, inputName: "annotations.jsonl");

        Assert.Equal(DeliveryRunStatus.Completed, second.Status);
        Assert.Equal((6L, 6L, 0L), (second.Records, second.Delivered, second.PossiblyDelivered));
        Assert.Equal(6 - first.Delivered, second.Requests);
        var created = JsonNode.Parse(run.Sandbox.GetStateJson())!["organizations"]![0]!["annotations"]!.AsArray();
        Assert.Equal(6, created.Count);
    }
}
