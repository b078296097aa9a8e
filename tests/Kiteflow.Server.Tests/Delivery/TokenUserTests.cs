using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Server.Delivery;
using Kiteflow.Server.Hosting;
using Kiteflow.Storage;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// Who a token belongs to is asked of Buildkite once per token (<c>GET /v2/access-token</c>): that call is not paced by
/// the shared budgets, yet counts against the organization's and the user's limits, so destinations that start together
/// (an activation of several, a server restart) must not each make it, and a destination just activated — whose
/// activation has checked the token — must not make it again.
/// </summary>
public sealed class TokenUserTests : IAsyncLifetime
{
    private ServerHarness _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync();
        _client = await _server.LoginAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task TokenUserAsync_ManyDestinationsAskAtOnce_AsksTheApiOnce()
    {
        var services = _server.Service<DeliveryServices>();
        var row = await _server.Service<IKiteflowStore>().Credentials.GetAsync(EmbeddedSandbox.CredentialName, CancellationToken.None);
        var credential = services.Credentials.Open(row!);
        await ClearRequestLogAsync();

        var users = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => services.TokenUserAsync(credential, CancellationToken.None)));

        Assert.All(users, u => Assert.Equal("admin@sandbox.example", u));
        Assert.Equal(1, await AccessTokenCallsAsync());
    }

    [Fact]
    public async Task Activate_ThenDelivers_TheTokenIsCheckedOnce()
    {
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/datasets", new { name = "once" })).StatusCode);
        using (var content = new StringContent("""{"org":"acme","pipeline":"web","commit":"c000000000000000000000000000000000000000","branch":"main"}""" + "\n", Encoding.UTF8, "application/x-ndjson"))
        {
            Assert.True((await _client.PostAsync("/api/v1/datasets/once/records?format=jsonl", content)).IsSuccessStatusCode);
        }

        var settings = JsonNode.Parse("""{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"]}""");
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "once", dataset = "once", credential = "sandbox", settings })).StatusCode);
        await ClearRequestLogAsync();

        var activated = await _client.PostAsJsonAsync("/api/v1/destinations/once/activate", new { });
        Assert.True(activated.StatusCode == HttpStatusCode.OK, await activated.Content.ReadAsStringAsync());
        await WaitForDeliveredAsync("once", 1);

        Assert.Equal(1, await AccessTokenCallsAsync());
    }

    private async Task ClearRequestLogAsync()
    {
        using var http = new HttpClient();
        (await http.DeleteAsync(new Uri(_server.Service<EmbeddedSandbox>().Server!.BaseAddress, "/_sandbox/requests"))).EnsureSuccessStatusCode();
    }

    private async Task<int> AccessTokenCallsAsync()
    {
        using var http = new HttpClient();
        var log = await http.GetFromJsonAsync<JsonNode>(new Uri(_server.Service<EmbeddedSandbox>().Server!.BaseAddress, "/_sandbox/requests"));
        return log!["requests"]!.AsArray().Count(r => (string?)r!["path"] == "/v2/access-token");
    }

    /// <summary>Polls the status until the records are delivered; fails after two minutes (no timing is asserted).</summary>
    private async Task WaitForDeliveredAsync(string destination, long delivered)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        JsonNode status;
        do
        {
            status = (await _client.GetFromJsonAsync<JsonNode>($"/api/v1/destinations/{destination}/status"))!;
            if ((long)status["delivered"]! == delivered)
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"never delivered {delivered}; last status: {status.ToJsonString()}");
    }
}
