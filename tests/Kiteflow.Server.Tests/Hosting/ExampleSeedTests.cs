using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Kiteflow.Server.Hosting;

namespace Kiteflow.Server.Tests.Hosting;

/// <summary>
/// The seeded example (<c>kiteflow serve --example</c>): the trigger → annotate chain, end to end on the embedded sandbox
/// — the first destination makes a build per record and keeps its responses in a response dataset, which the second
/// reads to annotate each build once.
/// </summary>
public sealed class ExampleSeedTests
{
    [Fact]
    public async Task Example_ActivateTriggerThenAnnotate_EachBuildAnnotatedOnce_RecordsIngestedLaterFlowThroughBoth()
    {
        await using var server = await ServerHarness.StartAsync(o =>
        {
            o.SeedExample = true;
            o.Sandbox.OrganizationLimit = RateLimitSetting.Parse("100000/60s");
            o.Sandbox.UserLimit = RateLimitSetting.Parse("100000/60s");
        });
        using var api = new ServerApi(await server.LoginAsync());

        var destinations = (await api.Client.GetFromJsonAsync<JsonArray>("/api/v1/destinations"))!;
        Assert.Equal(
            [("annotate-from-responses", "trigger-builds-responses", "sandbox", "draft"), ("trigger-builds", "release-train", "sandbox", "draft")],
            destinations.Select(d => ((string)d!["name"]!, (string)d["dataset"]!, (string)d["credential"]!, (string)d["state"]!)).Order());
        Assert.Equal(24, (long)(await api.Client.GetFromJsonAsync<JsonNode>("/api/v1/datasets/release-train"))!["records"]!);

        // Activate the first: a build per record, each response kept in trigger-builds-responses.
        await api.PostAsync("/api/v1/destinations/trigger-builds/activate");
        await api.WaitForStatusAsync("trigger-builds", s => (long)s["delivered"]! == 24 && (long)s["lag"]! == 0);

        // Then the second: it reads the responses and annotates each build.
        await api.PostAsync("/api/v1/destinations/annotate-from-responses/activate");
        await api.WaitForStatusAsync("annotate-from-responses", s => (long)s["delivered"]! == 24 && (long)s["lag"]! == 0);

        // With both active, records ingested later go all the way through.
        var key = (string)(await api.PostAsync("/api/v1/datasets/release-train/ingest-key"))["ingestKey"]!;
        using (var ingest = server.Anonymous())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/ingest/release-train")
            {
                Content = new StringContent(
                    """
                    {"org":"acme","pipeline":"web","commit":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1","branch":"main","message":"late one","meta_data":{"ticket":"REL-9001"}}
                    {"org":"acme","pipeline":"api","commit":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2","branch":"main","message":"late two","meta_data":{"ticket":"REL-9002"}}
                    """,
                    Encoding.UTF8,
                    "application/x-ndjson"),
            };
            request.Headers.Authorization = new("Bearer", key);
            var ingested = await ingest.SendAsync(request);
            Assert.True(ingested.IsSuccessStatusCode, await ingested.Content.ReadAsStringAsync());
        }

        await api.WaitForStatusAsync("trigger-builds", s => (long)s["delivered"]! == 26 && (long)s["lag"]! == 0);
        var annotated = await api.WaitForStatusAsync("annotate-from-responses", s => (long)s["delivered"]! == 26 && (long)s["lag"]! == 0);
        Assert.Equal((0L, 0L), ((long)annotated["rejected"]!, (long)annotated["possiblyDelivered"]!));

        // One annotation per build: every build was annotated by exactly one call, each with its own build's ticket.
        var sandbox = server.Service<EmbeddedSandbox>().Server!;
        var builds = ServerApi.Builds(sandbox);
        Assert.Equal(26, builds.Count);
        var calls = (await ServerApi.RequestsAsync(sandbox))
            .Where(r => (string?)r["method"] == "POST" && ((string)r["path"]!).EndsWith("/annotations", StringComparison.Ordinal) && (int?)r["status"] == 201)
            .GroupBy(r => (string)r["path"]!)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(
            builds.Select(b => $"/v2/organizations/acme/pipelines/{b["pipeline"]}/builds/{b["number"]}/annotations").Order(StringComparer.Ordinal),
            calls.Keys.Order(StringComparer.Ordinal));
        Assert.All(calls, call => Assert.True(call.Value == 1, $"{call.Key} was annotated {call.Value} times"));
        var annotations = JsonNode.Parse(sandbox.GetStateJson())!["organizations"]![0]!["annotations"]!.AsArray();
        foreach (var build in builds)
        {
            var annotation = Assert.Single(annotations, a => (string?)a!["pipeline"] == (string?)build["pipeline"] && (int?)a!["build_number"] == (int?)build["number"]);
            Assert.Contains($"**{build["meta_data"]!["ticket"]}**", (string)annotation!["body"]!);
        }
    }

    [Fact]
    public async Task Example_StoreWithADataset_NotAdded_SaysWhy()
    {
        var data = Directory.CreateTempSubdirectory("kiteflow-example-").FullName;
        try
        {
            await using (var first = await ServerHarness.StartAsync(dataDirectory: data))
            {
                using var api = new ServerApi(await first.LoginAsync());
                await api.CreateDatasetAsync("mine");
            }

            await using var again = await ServerHarness.StartAsync(o => o.SeedExample = true, data);
            using var client = await again.LoginAsync();

            Assert.Empty((await client.GetFromJsonAsync<JsonArray>("/api/v1/destinations"))!);
            Assert.Equal(["mine"], (await client.GetFromJsonAsync<JsonArray>("/api/v1/datasets"))!.Select(d => (string)d!["name"]!));
            Assert.Contains(again.Logs.Lines, l => l.Contains("The example was not added: the store has datasets already", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_ExampleFlag_SeedsTheDatasetAndTwoDrafts_OnceOnly()
    {
        var data = Directory.CreateTempSubdirectory("kiteflow-serve-example-").FullName;
        try
        {
            string key;
            using (var server = await ServeProcess.StartAsync(data, "--example"))
            {
                key = await server.CreateApiKeyAsync();
                using var api = ServerApi.WithKey(server.BaseAddress, key);
                var destinations = (await api.Client.GetFromJsonAsync<JsonArray>("/api/v1/destinations"))!;
                Assert.Equal(["annotate-from-responses", "trigger-builds"], destinations.Select(d => (string)d!["name"]!).Order());
                Assert.All(destinations, d => Assert.Equal("draft", (string?)d!["state"]));
                Assert.Contains("Seeded the example", server.Errors);
            }

            // Started again with the flag on the same data: the example is there once, not twice.
            using (var again = await ServeProcess.StartAsync(data, "--example"))
            {
                using var api = ServerApi.WithKey(again.BaseAddress, key);
                Assert.Equal(["release-train", "trigger-builds-responses"], (await api.Client.GetFromJsonAsync<JsonArray>("/api/v1/datasets"))!.Select(d => (string)d!["name"]!).Order());
                Assert.Equal(24, (long)(await api.Client.GetFromJsonAsync<JsonNode>("/api/v1/datasets/release-train"))!["records"]!);
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
