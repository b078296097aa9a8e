using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Kiteflow.Server.Hosting;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// Activating (or resuming) checks the token with <c>GET /v2/access-token</c>, which counts against the limits like any
/// call: right after a burst — this destination's own before a pause, or another's — it is answered 429. That says
/// nothing about the token, so the check waits for the reset the answer names instead of refusing the activation.
/// </summary>
public sealed class ActivateRateLimitedTests : IAsyncLifetime
{
    private ServerHarness _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync(o => o.Sandbox = new SandboxOptions { UserLimit = RateLimitSetting.Parse("3/4s") });
        _client = await _server.LoginAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Activate_UserLimitJustSpent_WaitsForTheReset_ThenActivatesAndDelivers()
    {
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/datasets", new { name = "spent" })).StatusCode);
        using (var content = new StringContent("""{"org":"acme","pipeline":"web","commit":"c000000000000000000000000000000000000000","branch":"main"}""" + "\n", Encoding.UTF8, "application/x-ndjson"))
        {
            Assert.True((await _client.PostAsync("/api/v1/datasets/spent/records?format=jsonl", content)).IsSuccessStatusCode);
        }

        var settings = JsonNode.Parse("""{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"]}""");
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "spent", dataset = "spent", credential = "sandbox", settings })).StatusCode);

        // Another client of the same token spends the user's window.
        using var other = new HttpClient { BaseAddress = _server.Service<EmbeddedSandbox>().Server!.BaseAddress };
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SandboxServer.DefaultToken);
        HttpStatusCode last;
        do
        {
            last = (await other.GetAsync("/v2/access-token")).StatusCode;
        }
        while (last != HttpStatusCode.TooManyRequests);

        var activated = await _client.PostAsJsonAsync("/api/v1/destinations/spent/activate", new { });

        Assert.True(activated.StatusCode == HttpStatusCode.OK, await activated.Content.ReadAsStringAsync());
        await Eventually.WaitForAsync(async () => (await _client.GetFromJsonAsync<JsonNode>("/api/v1/destinations/spent/status"))!, s => (long)s["delivered"]! == 1);
    }
}
