using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace Kiteflow.Benchmarks;

/// <summary>
/// A real <c>kiteflow serve</c> process (the built CLI, as a user starts it) on a free loopback port over a temporary
/// data folder, with an API-key client for its REST API, and readings of its memory and threads from /proc.
/// Stopped with SIGTERM, as a service manager stops it.
/// </summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private const string Password = "bench-admin-password";
    private readonly Process _process;
    private readonly string _directory;
    private readonly Queue<string> _errors = new();
    private readonly List<(DateTimeOffset At, string Line)> _clusterEvents = [];

    private ServeProcess(Process process, string directory, Uri baseAddress)
    {
        _process = process;
        _directory = directory;
        BaseAddress = baseAddress;
        Api = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
    }

    public Uri BaseAddress { get; }

    /// <summary>A client with an API key of the admin: every call under /api/v1.</summary>
    public HttpClient Api { get; }

    public int Pid => _process.Id;

    /// <summary>
    /// The log lines of a silo leaving (1406), a lease waited out (1409) and a destination delivering (1401), each with
    /// the time it reached this process (the log's own timestamps are whole seconds).
    /// </summary>
    public IReadOnlyList<(DateTimeOffset At, string Line)> ClusterEvents
    {
        get
        {
            lock (_errors)
            {
                return [.. _clusterEvents];
            }
        }
    }

    /// <summary>The last lines the server wrote to stderr (its log), for a failure's message.</summary>
    public string RecentLog
    {
        get
        {
            lock (_errors)
            {
                return string.Join('\n', _errors);
            }
        }
    }

    public static Task<ServeProcess> StartAsync() => StartAsync([], new Dictionary<string, string>(), logIn: true);

    /// <summary>
    /// Starts <c>kiteflow serve</c> with <paramref name="extraArgs"/> and <paramref name="environment"/> added; with
    /// <paramref name="logIn"/>, logs in and makes an API key for <see cref="Api"/> (a worker silo serves no API).
    /// </summary>
    public static async Task<ServeProcess> StartAsync(string[] extraArgs, IReadOnlyDictionary<string, string> environment, bool logIn)
    {
        var directory = Directory.CreateTempSubdirectory("kiteflow-serve-bench-").FullName;
        var port = BenchSupport.FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[BenchSupport.Cli, "serve", "--urls", $"http://127.0.0.1:{port}", "--data", directory, .. extraArgs])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KITEFLOW_ADMIN_PASSWORD"] = Password;
        start.Environment["KITEFLOW_HOME"] = directory;
        start.Environment["CI"] = "true";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var serve = new ServeProcess(process, directory, new Uri($"http://127.0.0.1:{port}"));
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (serve._errors)
                {
                    if (line.Contains("[1406]", StringComparison.Ordinal) || line.Contains("[1409]", StringComparison.Ordinal) || line.Contains("[1401]", StringComparison.Ordinal))
                    {
                        serve._clusterEvents.Add((DateTimeOffset.UtcNow, line));
                    }

                    serve._errors.Enqueue(line);
                    if (serve._errors.Count > 40)
                    {
                        serve._errors.Dequeue();
                    }
                }
            }
        };
        process.BeginErrorReadLine();

        // "Kiteflow is listening on URL" once it takes requests.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException($"kiteflow serve ended before listening:\n{serve.RecentLog}");
            if (line.StartsWith("Kiteflow is listening on", StringComparison.Ordinal))
            {
                break;
            }
        }

        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        if (logIn)
        {
            await serve.LogInAsync();
        }

        return serve;
    }

    /// <summary>Creates a credential for <paramref name="token"/> at <paramref name="apiBase"/> (the harness's own sandbox).</summary>
    public async Task CreateCredentialAsync(string name, string token, Uri apiBase) =>
        await CheckAsync(await Api.PostAsJsonAsync("/api/v1/credentials", new { name, token, apiBase = apiBase.ToString() }), "create credential " + name);

    /// <summary>Creates a dataset; returns its ingest key.</summary>
    public async Task<string> CreateDatasetAsync(string name)
    {
        var created = await CheckAsync(await Api.PostAsJsonAsync("/api/v1/datasets", new { name, source = "ingest" }), "create dataset " + name);
        return (string)created["ingestKey"]!;
    }

    public async Task UploadAsync(string dataset, string jsonLines)
    {
        using var content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson");
        await CheckAsync(await Api.PostAsync($"/api/v1/datasets/{dataset}/records?format=jsonl", content), "upload to " + dataset);
    }

    public async Task CreateDestinationAsync(string name, string dataset, string credential, string settings) =>
        await CheckAsync(await Api.PostAsJsonAsync("/api/v1/destinations", new { name, dataset, credential, settings = JsonNode.Parse(settings) }), "create destination " + name);

    /// <summary>Activates a destination: from the dataset's first record, or (<paramref name="onlyNew"/>) only records appended from now on.</summary>
    public async Task ActivateAsync(string destination, bool onlyNew)
    {
        object body = onlyNew ? new { from = "new" } : new { };
        await CheckAsync(await Api.PostAsJsonAsync($"/api/v1/destinations/{destination}/activate", body), "activate " + destination);
    }

    public async Task<JsonNode> StatusAsync(string destination) =>
        (await Api.GetFromJsonAsync<JsonNode>($"/api/v1/destinations/{destination}/status"))!;

    /// <summary>Posts one JSON record to <c>/ingest/{dataset}</c> and returns once it is acknowledged (durable).</summary>
    public async Task IngestAsync(HttpClient client, string dataset, string key, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseAddress, $"/ingest/{dataset}"))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"ingest into {dataset} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A line of /proc/PID/status (<c>VmRSS</c>, <c>VmHWM</c>, <c>Threads</c>) as a number (kB for memory).</summary>
    public long ProcStatus(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{Pid}/status has no {field}");
    }

    /// <summary>The server's CPU time so far (user + system).</summary>
    public TimeSpan Cpu => BenchSupport.ProcessCpu(Pid);

    /// <summary>kill -9: no chance to tidy up.</summary>
    public async Task KillAsync()
    {
        _ = Kill(_process.Id, 9);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        if (!_process.HasExited)
        {
            // SIGTERM: calls in flight finish, then it exits.
            _ = Kill(_process.Id, 15);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                _process.Kill();
            }
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task LogInAsync()
    {
        using var session = new HttpClient(new SocketsHttpHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = BaseAddress };
        var login = await CheckAsync(await session.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = Password }), "log in");
        session.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)login["antiforgeryToken"]!);
        var key = await CheckAsync(await session.PostAsJsonAsync("/api/v1/api-keys", new { name = "bench" }), "create an API key");
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)key["key"]!);
    }

    private static async Task<JsonNode> CheckAsync(HttpResponseMessage response, string what)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {text}");
            }

            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
