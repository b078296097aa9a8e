using System.Globalization;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>
/// `kiteflow send` of one-record create-build requests against the sandbox (fixed windows aligned like
/// Buildkite's), with no <c>delivery.*RequestsPerMinute</c> cap: pacing follows the server's headers alone.
/// Scenarios:
/// <list type="bullet">
/// <item><c>org</c>: the organization limit scaled down to 20 per 2 s, the user's generous (100,000 per 2 s); 200 requests.</item>
/// <item><c>user</c>: the user limit scaled down to 20 per 2 s, the organization's at Buildkite's default (200 per 60 s); 150 requests.</item>
/// <item><c>user-small</c>: the user limit at 5 per 3 s, the organization's at its default; 15 requests (issue 8's case).</item>
/// <item><c>generous</c>: both limits at 100,000 per 60 s; 2,000 requests, against the same run with pacing off.</item>
/// </list>
/// For a scaled-down limit the baseline is the least time both limits allow for the same calls from the
/// moment the first arrived (every call counts, kiteflow's token check included), computed from the
/// sandbox's own request log, as are the 429s per window. With generous limits that least time is nil, so
/// the baseline is the same send with <c>delivery.pacing: false</c>, best of five each.
/// </summary>
internal static class PacingHarness
{
    private static readonly RateLimitSetting Generous = RateLimitSetting.Parse("100000/60s");

    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.Length > 0 ? args : ["org", "user", "user-small", "generous"];
        foreach (var scenario in which)
        {
            switch (scenario)
            {
                case "org":
                    await LimitedAsync("organization limit scaled down", RateLimitSetting.Parse("20/2s"), RateLimitSetting.Parse("100000/2s"), 200);
                    break;
                case "user":
                    await LimitedAsync("user limit scaled down", RateLimitSetting.DefaultOrganization, RateLimitSetting.Parse("20/2s"), 150);
                    break;
                case "user-small":
                    await LimitedAsync("user limit at 5 per 3 s", RateLimitSetting.DefaultOrganization, RateLimitSetting.Parse("5/3s"), 15);
                    break;
                case "generous":
                    await GenerousAsync(2000);
                    break;
                default:
                    Console.Error.WriteLine("usage: Kiteflow.Benchmarks pacing [org|user|user-small|generous …]");
                    return 2;
            }
        }

        return 0;
    }

    private static async Task LimitedAsync(string title, RateLimitSetting organization, RateLimitSetting user, int requests)
    {
        var run = await SendAsync(organization, user, requests, pacing: true);
        var least = LeastEnd(run.Admitted, organization, user) - run.First;
        var measured = run.Last - run.First;
        var window = organization.Window < user.Window ? organization.Window : user.Window;
        var refused = run.Refused.GroupBy(t => Index(t, window)).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        Console.WriteLine($"--- {title}: organization {organization}, user {user} (fixed windows), {requests} one-record requests, concurrency 4, no cap");
        Console.WriteLine($"created {run.Created} builds; {run.Admitted.Count} calls counted (the token check included); 429s: {run.Refused.Count} in all, at most {refused} in one {window.TotalSeconds:0.#}-s window");
        Console.WriteLine($"first to last call: {measured.TotalSeconds:N2} s; least both limits allow from the first call: {least.TotalSeconds:N2} s; ratio {measured.TotalSeconds / least.TotalSeconds:N3}");

        // What kiteflow's start-up costs: the token check is the first call, and the window slots left unused
        // until the first build is ready count in the least time above. From the first build on, the rest is pacing.
        var builds = run.Admitted.Where(t => t >= run.FirstBuild).ToList();
        var leastFromBuild = LeastEnd(builds, organization, user, run.Admitted.Count(t => t < run.FirstBuild), run.First) - run.FirstBuild;
        Console.WriteLine($"token check to first build: {(run.FirstBuild - run.First).TotalSeconds:N2} s; from the first build: {(run.Last - run.FirstBuild).TotalSeconds:N2} s against a least of {leastFromBuild.TotalSeconds:N2} s, ratio {(run.Last - run.FirstBuild).TotalSeconds / leastFromBuild.TotalSeconds:N3}");
        foreach (var group in run.Admitted.GroupBy(t => Index(t, window)))
        {
            var start = Start(group.Key, window);
            Console.WriteLine($"  window +{(start - run.First).TotalSeconds:N2} s: {group.Count()} calls, first at +{(group.First() - start).TotalMilliseconds:N0} ms, last at +{(group.Last() - start).TotalMilliseconds:N0} ms");
        }

        Console.WriteLine($"(whole kiteflow process: {run.Elapsed.TotalSeconds:N2} s) {run.Output.Split('\n')[0]}");
    }

    private static async Task GenerousAsync(int requests)
    {
        var paced = new List<Run>();
        var unpaced = new List<Run>();
        for (var i = 0; i < 5; i++)
        {
            unpaced.Add(await SendAsync(Generous, Generous, requests, pacing: false));
            paced.Add(await SendAsync(Generous, Generous, requests, pacing: true));
        }

        var best = paced.MinBy(r => r.Last - r.First)!;
        var baseline = unpaced.MinBy(r => r.Last - r.First)!;
        var seconds = (best.Last - best.First).TotalSeconds;
        var baselineSeconds = (baseline.Last - baseline.First).TotalSeconds;
        Console.WriteLine($"--- generous limits: organization and user {Generous} (fixed windows), {requests} one-record requests, concurrency 4, no cap");
        Console.WriteLine($"paced: {best.Created} builds, 429s {paced.Sum(r => r.Refused.Count)} over five runs, first to last call {seconds:N2} s ({requests / seconds * 60:N0} requests a minute); runs: {string.Join(", ", paced.Select(r => (r.Last - r.First).TotalSeconds.ToString("N2", CultureInfo.InvariantCulture)))} s");
        Console.WriteLine($"pacing off (baseline): first to last call {baselineSeconds:N2} s; runs: {string.Join(", ", unpaced.Select(r => (r.Last - r.First).TotalSeconds.ToString("N2", CultureInfo.InvariantCulture)))} s");
        Console.WriteLine($"ratio paced / pacing off (best of five each): {seconds / baselineSeconds:N3}");
        Console.WriteLine($"(paced kiteflow process: {best.Elapsed.TotalSeconds:N2} s) {best.Output.Split('\n')[0]}");
    }

    private static async Task<Run> SendAsync(RateLimitSetting organization, RateLimitSetting user, int requests, bool pacing)
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions
        {
            OrganizationLimit = organization,
            UserLimit = user,
            RequestLogCapacity = 100_000,
        });

        var directory = Directory.CreateTempSubdirectory("kiteflow-pacing-").FullName;
        try
        {
            // The records name pipelines the sandbox may not have: send them all to web.
            var input = Path.Combine(directory, "builds.jsonl");
            var lines = System.Text.Encoding.UTF8.GetString(RecordGenerator.JsonLines(requests))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonNode.Parse(l)!.AsObject())
                .Select(o => { o.Remove("pipeline"); return o.ToJsonString(); });
            await File.WriteAllLinesAsync(input, lines);
            var destination = Path.Combine(directory, "destination.json");
            await File.WriteAllTextAsync(destination, $$$"""
                {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/{pipeline=web}/builds","excludeAttributes":["org","pipeline"],
                 "delivery":{"concurrency":4,"pacing":{{{(pacing ? "true" : "false")}}}}}
                """);

            var (elapsed, _, output) = BenchSupport.RunKiteflow(
                ["send", "-d", destination, "-i", input, "--api-base", sandbox.BaseAddress.ToString(), "--ledger", Path.Combine(directory, "ledger.db")],
                new Dictionary<string, string> { ["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken, ["KITEFLOW_HOME"] = directory });

            using var client = new HttpClient();
            var log = JsonNode.Parse(await client.GetStringAsync(new Uri(sandbox.BaseAddress, "/_sandbox/requests")))!["requests"]!.AsArray()
                .Where(r => ((string?)r!["path"] ?? string.Empty).StartsWith("/v2/", StringComparison.Ordinal))
                .Select(r => (Time: DateTimeOffset.Parse((string)r!["time"]!, CultureInfo.InvariantCulture), Status: (int?)r["status"], Method: (string?)r["method"]))
                .OrderBy(r => r.Time)
                .ToList();

            // A refused call takes no place in a window; every other one does.
            var admitted = log.Where(r => r.Status is not null and not 429).Select(r => r.Time).ToList();
            return new Run(
                log[0].Time,
                log.First(r => r.Method == "POST").Time,
                admitted[^1],
                admitted,
                log.Where(r => r.Status == 429).Select(r => r.Time).ToList(),
                log.Count(r => r.Method == "POST" && r.Status == 201),
                elapsed,
                output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static DateTimeOffset LeastEnd(List<DateTimeOffset> calls, RateLimitSetting organization, RateLimitSetting user, int earlier = 0, DateTimeOffset earlierAt = default) =>
        RateWindows.LeastEnd(calls, organization, user, earlier, earlierAt);

    private static long Index(DateTimeOffset time, TimeSpan window) => RateWindows.Index(time, window);

    private static DateTimeOffset Start(long index, TimeSpan window) => RateWindows.Start(index, window);

    private sealed record Run(DateTimeOffset First, DateTimeOffset FirstBuild, DateTimeOffset Last, List<DateTimeOffset> Admitted, List<DateTimeOffset> Refused, int Created, TimeSpan Elapsed, string Output);
}
