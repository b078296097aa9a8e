using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>
/// Many active destinations on one server (issue 9): a real <c>kiteflow serve</c> process, N destinations (one request
/// per record) each on a dataset of its own, all on one credential against a sandbox hosted here (generous limits);
/// every dataset gets a record a second over <c>/ingest</c>, staggered. The server's memory (VmRSS, VmHWM) and thread
/// count (<c>Threads</c>) are read from /proc/PID/status every 250 ms: idle, with the destinations active and waiting,
/// and while records trickle in. Run for 1 and for 50 destinations in turn, each on a fresh server: the threads must
/// not grow with the destinations. Each record's lag (acknowledged → at the sandbox) shows the server keeps up.
/// </summary>
internal static class ServerFleetHarness
{
    private const string Settings = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline","id"],
         "delivery":{"concurrency":4}}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var counts = args.Length > 0 ? args[0].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() : [1, 50];
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60;
        var perSecond = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        Console.WriteLine($"kiteflow serve, N destinations (one request per record, concurrency 4) on one credential, each dataset getting {perSecond} record(s) a second for {seconds} s over /ingest; sandbox limits generous");
        Console.WriteLine("| destinations | records | RSS idle | RSS, destinations waiting | **peak RSS (VmHWM)** | threads idle | threads, destinations waiting | **threads while trickling: median / max** | server CPU while trickling (idle: same time waiting) | CPU per record above idle | lag p50 / p95 / max | load |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var count in counts)
        {
            await MeasureAsync(count, seconds, perSecond);
        }

        return 0;
    }

    private static async Task MeasureAsync(int destinations, int seconds, double perSecond)
    {
        var generous = RateLimitSetting.Parse("100000/60s");
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { OrganizationLimit = generous, UserLimit = generous, RequestLogCapacity = 500_000, RequestLogBodyLimit = 4096 });
        await using var serve = await ServeProcess.StartAsync();
        await serve.CreateCredentialAsync("bench", SandboxServer.DefaultToken, sandbox.BaseAddress);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var idleRss = serve.ProcStatus("VmRSS");
        var idleThreads = serve.ProcStatus("Threads");

        var keys = new string[destinations];
        for (var d = 0; d < destinations; d++)
        {
            keys[d] = await serve.CreateDatasetAsync($"fleet-{d}");
            await serve.CreateDestinationAsync($"fleet-{d}", $"fleet-{d}", "bench", Settings);
            await serve.ActivateAsync($"fleet-{d}", onlyNew: true);
        }

        for (var d = 0; d < destinations; d++)
        {
            await ServerLagHarness.WaitForAsync(serve, $"fleet-{d}", s => (string)s["worker"]! == "waiting", TimeSpan.FromMinutes(2));
        }

        // What the server spends doing nothing with the destinations waiting (timers, Orleans), to set against the trickle.
        var idleCpuBefore = serve.Cpu;
        var idleClock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(10));
        var idleCpuPerSecond = (serve.Cpu - idleCpuBefore).TotalSeconds / idleClock.Elapsed.TotalSeconds;
        var waitingRss = serve.ProcStatus("VmRSS");
        var waitingThreads = serve.ProcStatus("Threads");

        // Sample while the records trickle in.
        using var stop = new CancellationTokenSource();
        var threads = new List<long>();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                threads.Add(serve.ProcStatus("Threads"));
                try
                {
                    await Task.Delay(250, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        var perDestination = (int)(seconds * perSecond);
        var acknowledged = new DateTimeOffset[destinations, perDestination];
        var cpuBefore = serve.Cpu;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, destinations).Select(async d =>
        {
            using var client = new HttpClient();
            for (var k = 0; k < perDestination; k++)
            {
                // Staggered: destination d's records come d/N of a period after destination 0's.
                var due = TimeSpan.FromSeconds((k + ((double)d / destinations)) / perSecond);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }

                var json = $$"""{"id":{{k}},"org":"acme","pipeline":"web","commit":"{{d:x4}}{{k:x4}}{{new string('0', 32)}}","branch":"main","message":"f{{d}}-{{k}}"}""";
                await serve.IngestAsync(client, $"fleet-{d}", keys[d], json);
                acknowledged[d, k] = DateTimeOffset.UtcNow;
            }
        }));

        // Every record at the sandbox, then the figures.
        var total = destinations * perDestination;
        var arrivals = new Dictionary<string, DateTimeOffset>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (arrivals.Count < total && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            arrivals.Clear();
            foreach (var post in (await SandboxRequests.ReadAsync(sandbox)).Where(r => r.Method == "POST" && r.Body is not null))
            {
                arrivals.TryAdd((string)JsonNode.Parse(post.Body!)!["message"]!, post.Time);
            }
        }

        var cpu = serve.Cpu - cpuBefore;
        var trickled = clock.Elapsed;
        await stop.CancelAsync();
        await sampler;
        if (arrivals.Count < total)
        {
            throw new InvalidOperationException($"only {arrivals.Count} of {total} records reached the sandbox in three minutes\n{serve.RecentLog}");
        }

        var lags = new List<double>(total);
        for (var d = 0; d < destinations; d++)
        {
            for (var k = 0; k < perDestination; k++)
            {
                lags.Add((arrivals[$"f{d}-{k}"] - acknowledged[d, k]).TotalMilliseconds);
            }
        }

        lags.Sort();
        threads.Sort();
        var peak = serve.ProcStatus("VmHWM");
        Console.WriteLine($"| {destinations} | {total:N0} | {idleRss / 1024:N0} MiB | {waitingRss / 1024:N0} MiB | **{peak / 1024:N0} MiB** | {idleThreads} | {waitingThreads} | **{threads[threads.Count / 2]} / {threads[^1]}** | {cpu.TotalSeconds:N1} s ({idleCpuPerSecond * trickled.TotalSeconds:N1} s) | {(cpu.TotalSeconds - (idleCpuPerSecond * trickled.TotalSeconds)) * 1000 / total:N1} ms | {BenchSupport.Percentile(lags, 50):N0} / {BenchSupport.Percentile(lags, 95):N0} / {lags[^1]:N0} ms | {BenchSupport.Load()} |");
    }
}
