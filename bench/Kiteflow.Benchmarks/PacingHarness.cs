using System.Globalization;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>
/// `kiteflow send` against the sandbox with its user limit scaled down (20 requests per 2 s, fixed
/// windows aligned like Buildkite's): 200 one-record create-build requests. The baseline is the least
/// time the limit allows from the moment the first request arrived (the start of the 10th window);
/// reports the ratio and the 429s per window, from the sandbox's own request log. Every call counts
/// against the limit, so the least time is that of all kiteflow's calls, its token check included.
/// </summary>
internal static class PacingHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var limit = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        var windowSeconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        var requests = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
        var window = TimeSpan.FromSeconds(windowSeconds);
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions
        {
            UserLimit = RateLimitSetting.Parse($"{limit}/{windowSeconds}s"),
            OrganizationLimit = RateLimitSetting.Parse($"{limit * 10}/{windowSeconds}s"),
            RequestLogCapacity = 100_000,
        });

        var directory = Directory.CreateTempSubdirectory("kiteflow-pacing-").FullName;
        try
        {
            var input = Path.Combine(directory, "builds.jsonl");
            await File.WriteAllBytesAsync(input, RecordGenerator.JsonLines(requests));
            var destination = Path.Combine(directory, "destination.json");
            var perMinute = limit * 60 / windowSeconds;
            await File.WriteAllTextAsync(destination, $$$"""
                {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/{pipeline=web}/builds","excludeAttributes":["org","pipeline"],
                 "delivery":{"concurrency":4,"userRequestsPerMinute":{{{perMinute}}},"organizationRequestsPerMinute":{{{perMinute * 10}}}}}
                """);

            // The records name pipelines the sandbox may not have: send them all to web.
            var lines = (await File.ReadAllLinesAsync(input)).Select(l => JsonNode.Parse(l)!.AsObject()).Select(o => { o.Remove("pipeline"); return o.ToJsonString(); });
            await File.WriteAllLinesAsync(input, lines);

            var (elapsed, _, output) = BenchSupport.RunKiteflow(
                ["send", "-d", destination, "-i", input, "--api-base", sandbox.BaseAddress.ToString(), "--ledger", Path.Combine(directory, "ledger.db")],
                new Dictionary<string, string> { ["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken, ["KITEFLOW_HOME"] = directory });

            using var client = new HttpClient();
            var log = JsonNode.Parse(await client.GetStringAsync(new Uri(sandbox.BaseAddress, "/_sandbox/requests")))!["requests"]!.AsArray();
            var calls = log.Count(r => ((string?)r!["path"] ?? string.Empty).StartsWith("/v2/", StringComparison.Ordinal));
            var posts = log.Where(r => (string?)r!["method"] == "POST").Select(r => (Time: DateTimeOffset.Parse((string)r!["time"]!, CultureInfo.InvariantCulture), Status: (int)r!["status"]!)).OrderBy(p => p.Time).ToList();
            var first = log.Select(r => DateTimeOffset.Parse((string)r!["time"]!, CultureInfo.InvariantCulture)).Min();
            var last = posts.Last(p => p.Status == 201).Time;
            var firstWindow = first.ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds;
            // Every call counts against the limit, kiteflow's token check included.
            var windowsNeeded = (calls + limit - 1) / limit;
            var leastEnd = DateTimeOffset.FromUnixTimeMilliseconds((firstWindow + windowsNeeded - 1) * (long)window.TotalMilliseconds);
            var least = leastEnd - first;
            var measured = last - first;
            var refusedPerWindow = posts.Where(p => p.Status == 429).GroupBy(p => p.Time.ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds).Select(g => g.Count()).DefaultIfEmpty(0).Max();
            Console.WriteLine($"sandbox user limit {limit} per {windowSeconds} s (fixed windows), {requests} one-record requests, concurrency 4");
            Console.WriteLine($"created {posts.Count(p => p.Status == 201)} builds; 429s: {posts.Count(p => p.Status == 429)} in all, at most {refusedPerWindow} in one window");
            Console.WriteLine($"{calls} API calls (the token check and {requests} builds); first to last call: {measured.TotalSeconds:N2} s; least the limit allows from the first call: {least.TotalSeconds:N2} s; ratio {measured.TotalSeconds / least.TotalSeconds:N3}");
            foreach (var group in posts.GroupBy(p => p.Time.ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds))
            {
                var start = DateTimeOffset.FromUnixTimeMilliseconds(group.Key * (long)window.TotalMilliseconds);
                Console.WriteLine($"  window +{(start - first).TotalSeconds:N2}: {group.Count()} requests, first at +{(group.First().Time - start).TotalMilliseconds:N0} ms, last at +{(group.Last().Time - start).TotalMilliseconds:N0} ms");
            }

            Console.WriteLine($"(whole kiteflow process: {elapsed.TotalSeconds:N2} s) {output.Split('\n')[0]}");
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
