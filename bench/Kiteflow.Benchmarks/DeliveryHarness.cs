using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;

namespace Kiteflow.Benchmarks;

/// <summary>
/// End to end against a minimal loopback receiver (nginx answering 201), pacing off: `kiteflow send`
/// against a bare HttpClient loop that POSTs the same bodies with the same concurrency, measured in the
/// same run. Both are timed as whole processes (start-up and JIT included), since kiteflow's figure is
/// one: the baseline process streams the bodies, planned beforehand, from a file. Reports records per
/// second for both, their ratio, and peak resident memory.
/// </summary>
internal static class DeliveryHarness
{
    private const int Concurrency = 4;
    private const string Token = "bench-token-not-a-secret";

    public static int Run(string[] args)
    {
        var batched = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var single = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        using var nginx = Nginx.Start();
        Console.WriteLine($"receiver: nginx on {nginx.BaseAddress} (return 201); concurrency {Concurrency}; pacing off; kiteflow: {BenchSupport.Cli}");
        Console.WriteLine("| run | scenario | contender | rec/s | kiteflow ÷ it | CPU-s per 100k | peak RSS | load (1 min) |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|");
        for (var run = 1; run <= runs; run++)
        {
            if (batched > 0)
            {
                Measure(run, $"{batched:N0} records, 100 per request", batched, nginx.BaseAddress, batchSize: 100);
            }

            if (single > 0)
            {
                Measure(run, $"{single:N0} records, 1 per request", single, nginx.BaseAddress, batchSize: null);
            }
        }

        return 0;
    }

    /// <summary>Only kiteflow, for a memory reading on a large input (no baseline: it would hold every body).</summary>
    public static int RunMemory(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 6_000_000;
        using var nginx = Nginx.Start();
        var input = BenchSupport.Records(records);
        var destination = WriteDestination(100);
        var run = Send(destination, input, nginx.BaseAddress);
        Console.WriteLine($"input {new FileInfo(input).Length / (1024.0 * 1024 * 1024):N2} GiB, {records:N0} records, 100 per request: {run.Elapsed.TotalSeconds:N1} s, {records / run.Elapsed.TotalSeconds:N0} rec/s, {run.Cpu.TotalSeconds * 100_000 / records:N2} CPU-s per 100k, peak RSS {run.PeakBytes / (1024 * 1024):N0} MiB");
        return 0;
    }

    /// <summary>
    /// One scenario, each contender as a whole process in turn: the bare loop over ready-made bodies, the parsing
    /// baseline, kiteflow, syslog-ng. Prints a row per contender: its rate, kiteflow's rate over it, its CPU time
    /// (user + system) per 100,000 records, its peak resident memory, and the machine's load when it finished.
    /// </summary>
    private static void Measure(int run, string name, int records, Uri receiver, int? batchSize)
    {
        var input = BenchSupport.Records(records);
        var destination = WriteDestination(batchSize);
        var (bodiesFile, _) = PlanBodies(destination, input, receiver);
        var harness = typeof(DeliveryHarness).Assembly.Location;
        var results = new List<(string Contender, ProcessRun Run, string Load)>();
        try
        {
            results.Add(("bare HttpClient loop (bodies made beforehand)", BenchSupport.RunMeasured(harness, ["baseline-post", bodiesFile]).Run, Load()));
        }
        finally
        {
            File.Delete(bodiesFile);
        }

        string[] parsing = ["baseline-parse", input, receiver.ToString(), (batchSize ?? 0).ToString(CultureInfo.InvariantCulture), Concurrency.ToString(CultureInfo.InvariantCulture), Token];
        results.Add(("parsing baseline (Utf8JsonReader → Utf8JsonWriter)", BenchSupport.RunMeasured(harness, parsing).Run, Load()));
        var kiteflow = Send(destination, input, receiver);
        results.Add(("**kiteflow send**", kiteflow, Load()));
        if (SyslogNg.IsInstalled)
        {
            results.Add(("syslog-ng http()", SyslogNg.Run(input, receiver, records, batchSize ?? 1, Concurrency), Load()));
        }

        foreach (var (contender, result, load) in results)
        {
            var ratio = result == kiteflow ? "—" : (result.Elapsed.TotalSeconds / kiteflow.Elapsed.TotalSeconds).ToString("N2", CultureInfo.InvariantCulture);
            Console.WriteLine($"| {run} | {name} | {contender} | {records / result.Elapsed.TotalSeconds:N0} | {ratio} | {result.Cpu.TotalSeconds * 100_000 / records:N2} | {result.PeakBytes / (1024 * 1024):N0} MiB | {load} |");
        }
    }

    /// <summary>The 1-minute load average: the machine is shared, and a figure means little without it.</summary>
    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static ProcessRun Send(string destination, string input, Uri receiver)
    {
        var ledger = Path.Combine(BenchSupport.WorkDirectory, $"ledger-{Guid.NewGuid():N}.db");
        try
        {
            string[] args = ["send", "-d", destination, "-i", input, "--api-base", receiver.ToString(), "--ledger", ledger];
            return BenchSupport.RunMeasured(BenchSupport.Cli, args, new Dictionary<string, string> { ["BUILDKITE_API_TOKEN"] = Token, ["KITEFLOW_HOME"] = BenchSupport.WorkDirectory }).Run;
        }
        finally
        {
            foreach (var file in Directory.GetFiles(BenchSupport.WorkDirectory, Path.GetFileName(ledger) + "*"))
            {
                File.Delete(file);
            }
        }
    }

    private static string WriteDestination(int? batchSize)
    {
        var batching = batchSize is { } size ? $$""","batching":{"enabled":true,"batchSize":{{size}},"algorithm":"property","propertyName":"builds"}""" : string.Empty;
        var json = $$"""{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],"delivery":{"concurrency":{{Concurrency}},"pacing":false}{{batching}}}""";
        var path = Path.Combine(BenchSupport.WorkDirectory, $"destination-{batchSize?.ToString(CultureInfo.InvariantCulture) ?? "single"}.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Plans every record of <paramref name="input"/> and prints the time it took.</summary>
    public static int PlanOnly(string destinationPath, string input, int parallelism)
    {
        var stopwatch = Stopwatch.StartNew();
        var (settings, _) = DestinationSettingsReader.ReadFile(destinationPath);
        var destination = Destination.Compile(settings, new PlannerOptions { Parallelism = parallelism }).Destination!;
        long requests = 0, bytes = 0;
        using (var plan = destination.Plan(RecordReader.Open(input)))
        {
            foreach (var item in plan)
            {
                requests++;
                bytes += item.Request?.Body?.Length ?? 0;
            }
        }

        Console.WriteLine($"{requests:N0} items, {bytes:N0} body bytes in {stopwatch.Elapsed.TotalSeconds:N2} s (parallelism {parallelism})");
        return 0;
    }

    /// <summary>The bodies kiteflow will send, planned up front (not timed) into a file the baseline streams.</summary>
    public static (string Path, int Count) PlanBodies(string destinationPath, string input, Uri receiver)
    {
        var (settings, _) = DestinationSettingsReader.ReadFile(destinationPath);
        var destination = Destination.Compile(settings, new PlannerOptions { ApiBase = receiver }).Destination!;
        var path = Path.Combine(BenchSupport.WorkDirectory, $"bodies-{Guid.NewGuid():N}.bin");
        var count = 0;
        using (var file = new BinaryWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20)))
        using (var plan = destination.Plan(RecordReader.Open(input)))
        {
            foreach (var item in plan)
            {
                if (item.Request is { } request)
                {
                    file.Write(request.Url);
                    file.Write(request.Body!.Length);
                    file.Write(request.Body);
                    count++;
                }
            }
        }

        return (path, count);
    }

    /// <summary>
    /// The baseline, as its own process: a bare HttpClient loop, <see cref="Concurrency"/> tasks POSTing the
    /// bodies of <paramref name="args"/>[0] in turn, each with the token and a JSON content type.
    /// </summary>
    public static int BaselinePost(string[] args)
    {
        using var file = new BinaryReader(new FileStream(args[0], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20));
        var gate = new Lock();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency + 2 });
        var workers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                string url;
                byte[] body;
                lock (gate)
                {
                    if (file.BaseStream.Position >= file.BaseStream.Length)
                    {
                        return;
                    }

                    url = file.ReadString();
                    body = file.ReadBytes(file.ReadInt32());
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
                using var response = await client.SendAsync(request).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                response.EnsureSuccessStatusCode();
            }
        })).ToArray();
        Task.WaitAll(workers);
        return 0;
    }
}

/// <summary>nginx on a free loopback port answering 201 to everything (and a token check for kiteflow's pre-flight).</summary>
internal sealed class Nginx : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, Uri baseAddress)
    {
        _process = process;
        _directory = directory;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static Nginx Start()
    {
        var port = BenchSupport.FreePort();
        var directory = Directory.CreateTempSubdirectory("kiteflow-nginx-").FullName;
        var config = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(config, $$$"""
            worker_processes 1;
            daemon off;
            user root;
            pid {{{directory}}}/nginx.pid;
            error_log {{{directory}}}/error.log;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_max_body_size 100m;
              client_body_temp_path {{{directory}}}/body;
              proxy_temp_path {{{directory}}}/proxy;
              fastcgi_temp_path {{{directory}}}/fastcgi;
              uwsgi_temp_path {{{directory}}}/uwsgi;
              scgi_temp_path {{{directory}}}/scgi;
              keepalive_requests 1000000;
              server {
                listen 127.0.0.1:{{{port}}};
                location = /v2/access-token {
                  default_type application/json;
                  return 200 '{"uuid":"bench","scopes":["write_builds"],"description":"bench","created_at":"2026-01-01T00:00:00.000Z","expires_at":null,"user":{"name":"Bench","email":"bench@example.com"}}';
                }
                location / { default_type application/json; return 201 '{}'; }
              }
            }
            """);
        var process = Process.Start(new ProcessStartInfo("nginx", ["-c", config, "-p", directory]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        using var probe = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                probe.GetAsync(baseAddress).GetAwaiter().GetResult().Dispose();
                return new Nginx(process, directory, baseAddress);
            }
            catch (HttpRequestException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException("nginx did not start: " + process.StandardError.ReadToEnd());
    }

    public void Dispose()
    {
        // SIGTERM lets the master stop its workers; SIGKILL (Process.Kill) would orphan them.
        using (var stop = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            stop.WaitForExit();
        }

        if (!_process.WaitForExit(10_000))
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
