using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Xunit.Abstractions;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// SIGTERM to a real <c>kiteflow serve</c> process while a destination has calls in flight (a sandbox in this process
/// answers every create-build slowly): the calls are answered and recorded, the process exits 0, and the restarted
/// server finds nothing in flight — it looks nothing up and sends only what was never sent.
/// </summary>
public sealed class ServerShutdownTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Records = 40;
    private const string BuildsPath = "/v2/organizations/*/pipelines/*/builds";

    private readonly string _data = Directory.CreateTempSubdirectory("kiteflow-sigterm-").FullName;
    private SandboxServer _sandbox = null!;

    public async Task InitializeAsync() => _sandbox = await SandboxServer.StartAsync(new SandboxOptions
    {
        OrganizationLimit = RateLimitSetting.Parse("100000/60s"),
        UserLimit = RateLimitSetting.Parse("100000/60s"),
    });

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [UnixFact]
    public async Task Sigterm_WithCallsInFlight_TheyFinish_ExitsZero_RestartLooksNothingUp_EachRecordOneBuild()
    {
        _sandbox.SetFaults([new SandboxFaultRule { Method = "POST", Path = BuildsPath, Action = SandboxFaultAction.Delay, DelayMs = 1500 }]);
        string key;
        int buildsBefore;
        using (var server = await ServeProcess.StartAsync(_data))
        {
            key = await server.CreateApiKeyAsync();
            using (var api = ServerApi.WithKey(server.BaseAddress, key))
            {
                await api.CreateCredentialAsync("external", SandboxServer.DefaultToken, _sandbox.BaseAddress);
                await api.CreateDatasetAsync("deploys");
                await api.UploadAsync("deploys", string.Concat(Enumerable.Range(0, Records).Select(i =>
                    $$"""{"org":"acme","pipeline":"web","commit":"{{i:x8}}{{new string('d', 32)}}","branch":"main"}""" + "\n")));
                await api.CreateDestinationAsync("trigger", "deploys", "external", """
                    {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],"delivery":{"concurrency":4}}
                    """);
                await api.PostAsync("/api/v1/destinations/trigger/activate");
            }

            // Some builds made, and more create-builds waiting for their slow answers.
            var inFlight = 0;
            await Eventually.UntilAsync(
                async () =>
                {
                    var posts = await PostsAsync();
                    inFlight = posts.Count(p => p["status"] is null);
                    return posts.Count(p => (int?)p["status"] == 201) >= 4 && inFlight >= 2;
                },
                "builds made and calls in flight");
            server.Signal("TERM");
            var (exitCode, stdout, stderr) = await server.WaitAsync();

            Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");

            // Every call that left was answered (none cut: a cut one has no status), and made its build.
            var posts = await PostsAsync();
            Assert.All(posts, p => Assert.Equal(201, (int?)p["status"]));
            buildsBefore = ServerApi.Builds(_sandbox).Count;
            Assert.Equal(posts.Count, buildsBefore);
            output.WriteLine($"{inFlight} calls in flight at SIGTERM; {posts.Count} sent before the exit");
        }

        _sandbox.ClearFaults();
        var before = (await ServerApi.RequestsAsync(_sandbox)).Count;
        using (var again = await ServeProcess.StartAsync(_data))
        {
            using var api = ServerApi.WithKey(again.BaseAddress, key);
            var status = await api.WaitForStatusAsync("trigger", s => (long)s["lag"]! == 0 && (string)s["worker"]! == "waiting");

            var after = (await ServerApi.RequestsAsync(_sandbox)).Skip(before).ToList();
            Assert.DoesNotContain(after, r => ((string?)r["query"] ?? string.Empty).Contains("kiteflow_delivery_id", StringComparison.Ordinal));
            var builds = ServerApi.Builds(_sandbox);
            Assert.Equal(Records, builds.Count);
            Assert.Equal(Records, builds.Select(b => (string)b["commit"]!).Distinct().Count());
            Assert.Equal(Records - buildsBefore, after.Count(r => (string?)r["method"] == "POST"));
            Assert.Equal((Records, 0L, 0L, (long)Records), ((long)status["delivered"]!, (long)status["rejected"]!, (long)status["possiblyDelivered"]!, (long)status["cursor"]!));

            var runs = (await api.Client.GetFromJsonAsync<JsonArray>("/api/v1/destinations/trigger/runs"))!;
            Assert.Equal(["restart", "activate"], runs.Select(r => (string)r!["reason"]!));
            Assert.Equal("shutdown", (string?)runs[1]!["endReason"]);
        }
    }

    private async Task<List<JsonNode>> PostsAsync() =>
        (await ServerApi.RequestsAsync(_sandbox)).Where(r => (string?)r["method"] == "POST").ToList();
}
