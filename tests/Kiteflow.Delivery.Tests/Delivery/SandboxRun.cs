using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Sandbox;
using Kiteflow.Storage.Sqlite.Ledger;

namespace Kiteflow.Delivery.Tests.Delivery;

/// <summary>A real sandbox on loopback, a temp folder and a SQLite ledger file: what a delivery test runs against.</summary>
internal sealed class SandboxRun : IAsyncDisposable
{
    private SandboxRun(SandboxServer sandbox, string directory)
    {
        Sandbox = sandbox;
        Directory = directory;
    }

    public SandboxServer Sandbox { get; }

    public string Directory { get; }

    public string LedgerPath => Path.Combine(Directory, "ledger.db");

    public string ResponsesPath => Path.Combine(Directory, "responses.jsonl");

    public string RejectedPath => Path.Combine(Directory, "rejected.jsonl");

    public static async Task<SandboxRun> StartAsync(Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions
        {
            // Generous limits unless a test is about them: tests measure behaviour, not the clock.
            OrganizationLimit = RateLimitSetting.Parse("100000/60s"),
            UserLimit = RateLimitSetting.Parse("100000/60s"),
        };
        configure?.Invoke(options);
        var sandbox = await SandboxServer.StartAsync(options);
        return new SandboxRun(sandbox, System.IO.Directory.CreateTempSubdirectory("kiteflow-delivery-").FullName);
    }

    /// <summary>JSON Lines of create-build records for the default pipelines.</summary>
    public static string BuildRecords(int count, string pipeline = "{cycle}") =>
        string.Join('\n', Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new
        {
            org = "acme",
            pipeline = pipeline == "{cycle}" ? new[] { "web", "api", "docs" }[i % 3] : pipeline,
            commit = $"{i:x8}0000000000000000000000000000000a",
            branch = "main",
            message = $"Build {i} 🚀",
            meta_data = new { row = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        })));

    public const string TriggerBuilds = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":4,"maxAttempts":8,"timeoutSeconds":2,"organizationRequestsPerMinute":100000,"userRequestsPerMinute":100000}}
        """;

    /// <summary>The runner of the last <see cref="SendAsync"/>, for what it counted beyond the summary (the pacer's waits).</summary>
    public DeliveryRunner? LastRunner { get; private set; }

    /// <summary>Delivers <paramref name="records"/> through <paramref name="destinationJson"/> with <paramref name="token"/>, in-process.</summary>
    public async Task<DeliverySummary> SendAsync(string destinationJson, string records, string? token = null, string inputName = "input.jsonl", CancellationToken cancellationToken = default, CancellationToken stopping = default, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        var input = Path.Combine(Directory, inputName);
        if (!File.Exists(input))
        {
            await File.WriteAllTextAsync(input, records, cancellationToken);
        }

        var (settings, problems) = DestinationSettingsReader.Read(destinationJson, "test");
        Assert.Empty(problems);
        var runKey = DeliveryIds.RunKey(System.Text.Encoding.UTF8.GetBytes(destinationJson), input);
        var (destination, compileProblems) = Destination.Compile(settings, new PlannerOptions { ApiBase = Sandbox.BaseAddress, DeliveryIdPrefix = runKey, KeepRecordText = true });
        Assert.True(destination is not null, string.Join("; ", compileProblems));
        await using var ledger = await SqliteDeliveryLedger.OpenAsync(LedgerPath, cancellationToken);
        var credential = new Credential("sandbox", token ?? SandboxServer.DefaultToken, Sandbox.BaseAddress, DateTimeOffset.UtcNow);
        var runner = new DeliveryRunner(destination!, credential, ledger, new DeliveryOptions { RunKey = runKey, ResponsesPath = ResponsesPath, RejectedPath = RejectedPath, TimeProvider = time ?? TimeProvider.System, Handler = handler });
        LastRunner = runner;
        using var reader = RecordReader.Open(input);
        return await runner.RunAsync(reader, stopping, cancellationToken);
    }

    /// <summary>The ledger's state of each batch <paramref name="destinationJson"/> sent from <paramref name="inputName"/> (null: no entry), by first position.</summary>
    public async Task<BatchState?[]> LedgerStatesAsync(string destinationJson, int positions, string inputName = "input.jsonl")
    {
        var runKey = DeliveryIds.RunKey(System.Text.Encoding.UTF8.GetBytes(destinationJson), Path.Combine(Directory, inputName));
        await using var ledger = await SqliteDeliveryLedger.OpenAsync(LedgerPath);
        var states = new BatchState?[positions];
        for (var i = 0; i < positions; i++)
        {
            states[i] = (await ledger.FindAsync(runKey, i, CancellationToken.None))?.State;
        }

        return states;
    }

    /// <summary>Waits, polling the sandbox, until <paramref name="condition"/> holds for what it received; fails after a minute.</summary>
    public async Task WaitForRequestsAsync(Func<List<JsonNode>, bool> condition)
    {
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!condition(await RequestsAsync()))
        {
            Assert.True(await poll.WaitForNextTickAsync(deadline.Token).AsTask().ContinueWith(t => !t.IsCanceled, TaskScheduler.Default), "the sandbox never received what the test waits for");
        }
    }

    /// <summary>Waits, polling, until <paramref name="condition"/> holds; fails after a minute.</summary>
    public async Task WaitUntilAsync(Func<bool> condition)
    {
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!condition())
        {
            Assert.True(await poll.WaitForNextTickAsync(deadline.Token).AsTask().ContinueWith(t => !t.IsCanceled, TaskScheduler.Default), "the condition the test waits for never held");
        }
    }

    /// <summary>The lines of a file another process or run may still be writing.</summary>
    public static List<string> ReadSharedLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>Every build the sandbox holds.</summary>
    public List<JsonNode> Builds() =>
        JsonNode.Parse(Sandbox.GetStateJson())!["organizations"]!.AsArray()
            .SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    /// <summary>How many builds carry each delivery id.</summary>
    public Dictionary<string, int> BuildsPerDeliveryId() =>
        Builds().GroupBy(b => (string?)b["meta_data"]?["kiteflow_delivery_id"] ?? "(none)").ToDictionary(g => g.Key, g => g.Count());

    /// <summary>What the sandbox received, oldest first.</summary>
    public async Task<List<JsonNode>> RequestsAsync()
    {
        using var client = new HttpClient();
        var json = await client.GetStringAsync(new Uri(Sandbox.BaseAddress, "/_sandbox/requests"));
        var node = JsonNode.Parse(json)!;
        var list = node is JsonArray array ? array : node["requests"]!.AsArray();
        return list.Select(r => r!).ToList();
    }

    public static List<JsonNode> ReadLines(string path) =>
        File.Exists(path) ? File.ReadLines(path).Select(l => JsonNode.Parse(l)!).ToList() : [];

    public async ValueTask DisposeAsync()
    {
        await Sandbox.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
