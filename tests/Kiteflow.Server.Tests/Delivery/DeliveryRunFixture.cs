using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Kiteflow.Server.Hosting;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// One real delivery run, shared by the tests that look at what it left behind: a server whose embedded sandbox has a
/// scaled-down user limit (so the run waits for it), a credential with a token that is not the sandbox's own, a
/// destination whose responses go to a response dataset, 24 records delivered and one refused by Buildkite.
/// </summary>
public sealed class DeliveryRunFixture : IAsyncLifetime
{
    /// <summary>A token shaped like a real one, known to the sandbox, stored as the credential <c>acme-ci</c>.</summary>
    public const string Token = "bkua_4f2e9c1d7a3b5e8f0c6d2a9b1e7f3c5d8a0b4e6f";

    public const string Destination = "release-train";

    public const int Delivered = 24;

    internal ServerHarness Server { get; private set; } = null!;

    internal ServerApi Api { get; private set; } = null!;

    public JsonNode Status { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ServerHarness.StartAsync(o => o.Sandbox.UserLimit = RateLimitSetting.Parse("8/2s"));
        Api = new ServerApi(await Server.LoginAsync());
        var sandbox = Server.Service<EmbeddedSandbox>().Server!;
        sandbox.AddToken(new SandboxToken(Token, ["*"]));
        await Api.CreateCredentialAsync("acme-ci", Token, sandbox.BaseAddress);
        await Api.PostAsync("/api/v1/credentials/acme-ci/check");
        await Api.CreateDatasetAsync("releases");
        await Api.UploadAsync("releases", string.Concat(Enumerable.Range(0, Delivered + 1).Select(i =>
            $$"""{"org":"acme","pipeline":"{{(i == 7 ? "no-such-pipeline" : "web")}}","commit":"{{i:x8}}{{new string('e', 32)}}","branch":"main"}""" + "\n")));
        await Api.CreateDestinationAsync(Destination, "releases", "acme-ci", """
            {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
             "headers":"X-Kiteflow-Source:release-train","responseWebhook":{"enabled":true},"delivery":{"concurrency":4}}
            """);
        await Api.PostAsync($"/api/v1/destinations/{Destination}/activate");
        Status = await Api.WaitForStatusAsync(Destination, s => (long)s["lag"]! == 0 && (long)s["delivered"]! == Delivered && (long)s["rejected"]! == 1);

        // The responses of every call are appended to the response dataset from a queue: wait until all are there.
        await Eventually.WaitForAsync(
            async () => (await Api.Client.GetFromJsonAsync<JsonNode>($"/api/v1/datasets/{Destination}-responses"))!,
            d => (long)d["records"]! >= Delivered + 1);
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Server.DisposeAsync();
    }
}
