using System.Globalization;
using System.Text;
using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>
/// Budgets shared by destinations (issue 9): a real <c>kiteflow serve</c> process, several destinations active at once
/// against a sandbox hosted here with a limit scaled down, each on a dataset of its own uploaded beforehand (one
/// create-build per record, concurrency 4, no cap). Scenarios:
/// <list type="bullet">
/// <item><c>org</c>: 5 destinations on one organization and one token; organization 20 per 2 s, user generous; 200 requests.</item>
/// <item><c>user</c>: 2 destinations on two tokens of one sandbox user; user 20 per 2 s, organization generous; 150 requests.</item>
/// </list>
/// Together they must take within 1.15× the least time the limits allow for the same calls from the first call (every
/// call counts: the token checks of activation included), computed from the sandbox's request log, with at most one
/// 429 a window. Without shared budgets each destination would pace alone and the 429s would pile up.
/// </summary>
internal static class ServerPacingHarness
{
    private const string SecondToken = "bkua_bench_second_token_of_admin_00000000";

    private const string Settings = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline","id"],
         "delivery":{"concurrency":4}}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        // server-pacing [org|user …] [RUNS]
        var runs = args.Length > 0 && int.TryParse(args[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 1;
        var which = args.Where(a => !int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out _)).ToArray();
        which = which.Length > 0 ? which : ["org", "user"];
        var summaries = new List<string>();
        for (var run = 1; run <= runs; run++)
        {
            foreach (var scenario in which)
            {
                switch (scenario)
                {
                    case "org":
                        summaries.Add(await MeasureAsync("5 destinations, one organization, one token", RateLimitSetting.Parse("20/2s"), RateLimitSetting.Parse("100000/2s"), destinations: 5, records: 40, twoTokens: false));
                        break;
                    case "user":
                        summaries.Add(await MeasureAsync("2 destinations on two tokens of one user", RateLimitSetting.Parse("100000/2s"), RateLimitSetting.Parse("20/2s"), destinations: 2, records: 75, twoTokens: true));
                        break;
                    default:
                        Console.Error.WriteLine("usage: Kiteflow.Benchmarks server-pacing [org|user …] [RUNS]");
                        return 2;
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| scenario | ratio to the least time | from the first build | 429s: all / most in one window (first window) | token checks | load |");
        Console.WriteLine("|---|---:|---:|---|---:|---|");
        summaries.ForEach(Console.WriteLine);
        return 0;
    }

    private static async Task<string> MeasureAsync(string title, RateLimitSetting organization, RateLimitSetting user, int destinations, int records, bool twoTokens)
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { OrganizationLimit = organization, UserLimit = user, RequestLogCapacity = 100_000 });
        await using var serve = await ServeProcess.StartAsync();
        await serve.CreateCredentialAsync("bench-a", SandboxServer.DefaultToken, sandbox.BaseAddress);
        if (twoTokens)
        {
            // No user named: the seed's first user, who owns the default token too.
            sandbox.AddToken(new SandboxToken(SecondToken, ["*"]));
            await serve.CreateCredentialAsync("bench-b", SecondToken, sandbox.BaseAddress);
        }

        for (var d = 0; d < destinations; d++)
        {
            await serve.CreateDatasetAsync($"paced-{d}");
            var lines = new StringBuilder();
            for (var k = 0; k < records; k++)
            {
                lines.Append(CultureInfo.InvariantCulture, $$"""{"id":{{k}},"org":"acme","pipeline":"web","commit":"{{d:x4}}{{k:x4}}{{new string('0', 32)}}","branch":"main","message":"p{{d}}-{{k}}"}""").Append('\n');
            }

            await serve.UploadAsync($"paced-{d}", lines.ToString());
            await serve.CreateDestinationAsync($"paced-{d}", $"paced-{d}", twoTokens && d % 2 == 1 ? "bench-b" : "bench-a", Settings);
        }

        // Nothing before the activations counts (the credential checks on creation are not the destinations' calls).
        using (var http = new HttpClient())
        {
            (await http.DeleteAsync(new Uri(sandbox.BaseAddress, "/_sandbox/requests"))).EnsureSuccessStatusCode();
        }

        var load = BenchSupport.Load();
        await Task.WhenAll(Enumerable.Range(0, destinations).Select(d => serve.ActivateAsync($"paced-{d}", onlyNew: false)));
        for (var d = 0; d < destinations; d++)
        {
            await ServerLagHarness.WaitForAsync(serve, $"paced-{d}", s => (long)s["delivered"]! + (long)s["rejected"]! + (long)s["possiblyDelivered"]! == records, TimeSpan.FromMinutes(10));
        }

        var log = await SandboxRequests.ReadAsync(sandbox);
        var admitted = log.Where(r => r.Status is not null and not 429).Select(r => r.Time).ToList();
        var refused = log.Where(r => r.Status == 429).Select(r => r.Time).ToList();
        var first = log[0].Time;
        var last = admitted[^1];
        var least = RateWindows.LeastEnd(admitted, organization, user) - first;
        // The limit scaled down is the one that binds.
        var binding = organization.Limit <= user.Limit ? organization : user;
        var window = binding.Window;
        var limit = binding.Limit;
        var refusedMost = refused.GroupBy(t => RateWindows.Index(t, window)).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        var builds = log.Count(r => r.Method == "POST" && r.Status == 201);
        var checks = log.Where(r => r.Path == "/v2/access-token").ToList();
        var firstWindowRefused = refused.Count(t => RateWindows.Index(t, window) == RateWindows.Index(first, window));
        var firstBuild = log.First(r => r.Method == "POST").Time;
        var before = admitted.Count(t => t < firstBuild);
        var leastFromBuild = RateWindows.LeastEnd(admitted.Where(t => t >= firstBuild).ToList(), organization, user, before, first) - firstBuild;
        Console.WriteLine($"--- {title}: organization {organization}, user {user} (fixed windows), {destinations} × {records} one-record requests, concurrency 4 each, no cap; {load}");
        Console.WriteLine($"created {builds} builds; {admitted.Count} calls counted ({before} token checks before the first build); 429s: {refused.Count} in all, at most {refusedMost} in one {window.TotalSeconds:0.#}-s window");
        Console.WriteLine($"first to last call: {(last - first).TotalSeconds:N2} s; least the limits allow from the first call: {least.TotalSeconds:N2} s; **ratio {(last - first).TotalSeconds / least.TotalSeconds:N3}**");
        Console.WriteLine($"first call to first build: {(firstBuild - first).TotalSeconds:N2} s; from the first build: {(last - firstBuild).TotalSeconds:N2} s against a least of {leastFromBuild.TotalSeconds:N2} s, ratio {(last - firstBuild).TotalSeconds / leastFromBuild.TotalSeconds:N3}");
        foreach (var group in admitted.GroupBy(t => RateWindows.Index(t, window)))
        {
            var start = RateWindows.Start(group.Key, window);
            var refusedHere = refused.Count(t => RateWindows.Index(t, window) == group.Key);
            var checksHere = checks.Count(r => RateWindows.Index(r.Time, window) == group.Key);
            Console.WriteLine($"  window from {(start - first).TotalSeconds:+0.00;-0.00} s: {group.Count()} of {limit} calls{(checksHere > 0 ? $" ({checksHere} token checks)" : string.Empty)}{(refusedHere > 0 ? $", {refusedHere} 429" : string.Empty)}, first at +{(group.First() - start).TotalMilliseconds:N0} ms, last at +{(group.Last() - start).TotalMilliseconds:N0} ms");
        }

        // The first builds: how many were sent before the first answer to a build came back (the budgets had no word yet).
        var posts = log.Where(r => r.Method == "POST").ToList();
        var firstAnswer = posts[0].Time + TimeSpan.FromMilliseconds(1);
        Console.WriteLine($"  token checks: {checks.Count} ({string.Join(", ", checks.Select(c => $"+{(c.Time - first).TotalMilliseconds:N0} ms"))}); builds sent within 1 ms of the first: {posts.Count(p => p.Time <= firstAnswer)}, within 20 ms: {posts.Count(p => p.Time <= posts[0].Time + TimeSpan.FromMilliseconds(20))}");

        for (var d = 0; d < destinations; d++)
        {
            var status = await serve.StatusAsync($"paced-{d}");
            Console.WriteLine($"  paced-{d}: delivered {status["delivered"]}, requests {status["requests"]}, retries {status["retries"]}, 429 waits {status["rateLimitWaits"]}, last error {status["lastError"]?.ToJsonString() ?? "none"}");
        }

        Console.WriteLine($"  {BenchSupport.Load()}");
        return $"| {title} | {(last - first).TotalSeconds / least.TotalSeconds:N3} | {(last - firstBuild).TotalSeconds / leastFromBuild.TotalSeconds:N3} | {refused.Count} / {refusedMost} ({firstWindowRefused}) | {checks.Count} | {load} |";
    }
}
