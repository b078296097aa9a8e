using Kiteflow.Sandbox;

namespace Kiteflow.Delivery.Tests.Delivery;

/// <summary>How one request's outcome is settled, end to end against the real sandbox over HTTP.</summary>
public sealed class BatchDelivererTests
{
    [Fact]
    public async Task Send_AmbiguousCreateBuild_LookupAnswers404_ResentAndRejectedOnThe404()
    {
        // The connection drops before the sandbox does anything: the client cannot tell whether the build was made.
        await using var run = await SandboxRun.StartAsync(options =>
            options.Faults.Add(new SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds", When = SandboxFaultWhen.Before, Action = SandboxFaultAction.Drop, Count = 1 }));

        var summary = await run.SendAsync(SandboxRun.TriggerBuilds, SandboxRun.BuildRecords(1, "no-such-pipeline"));

        // "No pipeline found" on the lookup proves no build exists: the request was sent again, and its 404 rejects it.
        Assert.Equal((1L, 0L, 1L, 0L), (summary.Records, summary.Delivered, summary.Rejected, summary.PossiblyDelivered));
        var requests = await run.RequestsAsync();
        Assert.Equal(2, requests.Count(r => (string?)r["method"] == "POST"));
        var lookup = Assert.Single(requests, r => (string?)r["method"] == "GET" && ((string?)r["query"] ?? string.Empty).Contains("kiteflow_delivery_id", StringComparison.Ordinal));
        Assert.Equal(404, (int)lookup["status"]!);
        var rejected = Assert.Single(SandboxRun.ReadLines(run.RejectedPath));
        Assert.Equal(404, (int)rejected["error"]!["status"]!);
        Assert.Contains("No pipeline found", (string?)rejected["error"]!["message"]);
        Assert.False((bool?)rejected["error"]!["possiblyDelivered"] ?? false);
    }
}
