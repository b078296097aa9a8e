using System.Globalization;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Delivery.Tests.Delivery;

/// <summary>
/// Pacing end to end against the real sandbox over HTTP, with its limits scaled down. Asserts on what the
/// sandbox received and on what the pacer waited for, never on the clock.
/// </summary>
public sealed class DeliveryRunnerPacingTests
{
    /// <summary><see cref="SandboxRun.TriggerBuilds"/> without the per-minute caps: pacing follows the server alone.</summary>
    private const string FollowTheServer = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":4,"maxAttempts":8,"timeoutSeconds":10}}
        """;

    [Fact]
    public async Task Send_GenerousServerLimits_NoCapSet_NeverWaits()
    {
        // Both limits at 100,000 a minute: nothing should hold the run to Buildkite's default 50 a minute.
        await using var run = await SandboxRun.StartAsync();

        var summary = await run.SendAsync(FollowTheServer, SandboxRun.BuildRecords(60));

        Assert.Equal(60L, summary.Delivered);
        Assert.Equal(0L, summary.RateLimitWaits);
    }

    [Fact]
    public async Task Send_OrganizationLimitScaledDown_WaitsOnlyForTheOrganization_NotHeldToTheDefaultUserBudget()
    {
        // 100 calls at 20 per 2 s: about five windows. Buildkite's default user budget (50 a minute) must not
        // hold the run once the server has said the user may make 100,000.
        await using var run = await SandboxRun.StartAsync(options =>
        {
            options.OrganizationLimit = RateLimitSetting.Parse("20/2s");
            options.UserLimit = RateLimitSetting.Parse("100000/2s");
        });

        var summary = await run.SendAsync(FollowTheServer, SandboxRun.BuildRecords(100));

        Assert.Equal(100L, summary.Delivered);
        var pacer = run.LastRunner!.Pacer!;
        Assert.True(pacer.OrganizationWaits > 0, "the run never waited for the organization's window");
        Assert.Equal((0L, 0L), (pacer.UserWaits, pacer.LocalWaits));
        AssertAtMostOne429PerWindow(await run.RequestsAsync(), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Send_UserLimitScaledDown_OrganizationAtDefault_WaitsOnlyForTheUser()
    {
        // 16 calls (the token check and 15 builds) at 5 per 3 s; the organization's 200 a minute is nowhere
        // near spent, so no request may wait for its 60-second window.
        await using var run = await SandboxRun.StartAsync(options =>
        {
            options.OrganizationLimit = RateLimitSetting.DefaultOrganization;
            options.UserLimit = RateLimitSetting.Parse("5/3s");
        });

        var summary = await run.SendAsync(FollowTheServer, SandboxRun.BuildRecords(15));

        Assert.Equal(15L, summary.Delivered);
        var pacer = run.LastRunner!.Pacer!;
        Assert.True(pacer.UserWaits > 0, "the run never waited for the user's window");
        Assert.Equal((0L, 0L), (pacer.OrganizationWaits, pacer.LocalWaits));
        AssertAtMostOne429PerWindow(await run.RequestsAsync(), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Send_CapSet_HoldsThoughTheServerAllowsMore()
    {
        // The user chose 3 requests a minute; the sandbox would take 100,000.
        await using var run = await SandboxRun.StartAsync();
        using var stop = new CancellationTokenSource();
        var capped = FollowTheServer.Replace("\"concurrency\":4", "\"concurrency\":4,\"userRequestsPerMinute\":3", StringComparison.Ordinal);

        var send = run.SendAsync(capped, SandboxRun.BuildRecords(5), cancellationToken: stop.Token);

        // Three builds answered and a fourth request held by the cap (for the rest of the minute): stop there.
        await WaitUntilAsync(async () => run.LastRunner?.Pacer is { CapWaits: > 0 } && (await PostsAsync(run)).Count(r => r["status"] is not null) == 3);
        await stop.CancelAsync();
        try
        {
            await send;
        }
        catch (OperationCanceledException)
        {
            // Stopped while the fourth request waited for the cap.
        }

        Assert.Equal(3, (await PostsAsync(run)).Count);
        Assert.Equal((0L, 0L), (run.LastRunner!.Pacer!.OrganizationWaits, run.LastRunner.Pacer.UserWaits));
    }

    [Fact]
    public async Task Send_ResponsesWithoutRateLimitHeaders_KeepTheLastKnownState_No429Storm()
    {
        // Only the first create-build answer carries RateLimit-* headers; a proxy strips them from the rest. The window
        // is long enough that a busy machine's scheduling stalls (seconds, on a loaded CI host) cannot move a request
        // released at a window's start into the next window.
        await using var run = await SandboxRun.StartAsync(options => options.UserLimit = RateLimitSetting.Parse("10/8s"));

        var summary = await run.SendAsync(FollowTheServer, SandboxRun.BuildRecords(30), handler: new RateLimitHeaderStripper(keepFirstPosts: 1));

        Assert.Equal(30L, summary.Delivered);
        AssertAtMostOne429PerWindow(await run.RequestsAsync(), TimeSpan.FromSeconds(8));
    }

    private static async Task<List<JsonNode>> PostsAsync(SandboxRun run) => (await run.RequestsAsync()).Where(r => (string?)r["method"] == "POST").ToList();

    /// <summary>Polls <paramref name="condition"/> until it holds, for a minute at most.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            await Task.Delay(20, patience.Token);
        }
    }

    /// <summary>Buildkite's target: at most one 429 in any window of the limit, from the sandbox's own request log.</summary>
    private static void AssertAtMostOne429PerWindow(List<JsonNode> requests, TimeSpan window)
    {
        var refusedPerWindow = requests
            .Where(r => (int?)r["status"] == 429)
            .GroupBy(r => DateTimeOffset.Parse((string)r["time"]!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds)
            .Select(g => g.Count())
            .DefaultIfEmpty(0)
            .Max();
        Assert.True(refusedPerWindow <= 1, $"{refusedPerWindow} requests were refused with 429 in one window: " + string.Join(" ", requests.Select(r => $"{DateTimeOffset.Parse((string)r["time"]!, CultureInfo.InvariantCulture):ss.fff}/{(string?)r["method"]}/{(int?)r["status"]}")));
    }

    /// <summary>Removes every RateLimit-* header from create-build answers after the first few, as a proxy might.</summary>
    private sealed class RateLimitHeaderStripper(int keepFirstPosts) : DelegatingHandler(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
    {
        private int _posts;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && Interlocked.Increment(ref _posts) > keepFirstPosts)
            {
                foreach (var name in response.Headers.Select(h => h.Key).Where(n => n.StartsWith("RateLimit-", StringComparison.OrdinalIgnoreCase)).ToList())
                {
                    response.Headers.Remove(name);
                }
            }

            return response;
        }
    }
}
