using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

/// <summary>Looks up the default seed's ids over the API, as a client would.</summary>
internal static class World
{
    public const string MemberToken = "bkua_sandbox_member_000000000000000000000000";

    public static async Task<string> AgentIdAsync(HttpClient client, string name)
    {
        var agents = await client.GetJsonAsync("/v2/organizations/acme/agents?per_page=100");
        return agents.AsArray().Single(a => a!["name"]!.GetValue<string>() == name)!["id"]!.GetValue<string>();
    }

    public static async Task<string> ClusterIdAsync(HttpClient client, string name)
    {
        var clusters = await client.GetJsonAsync("/v2/organizations/acme/clusters");
        return clusters.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!["id"]!.GetValue<string>();
    }

    public static async Task<(string Cluster, string Queue)> QueueIdAsync(HttpClient client, string cluster, string key)
    {
        var clusterId = await ClusterIdAsync(client, cluster);
        var queues = await client.GetJsonAsync($"/v2/organizations/acme/clusters/{clusterId}/queues");
        return (clusterId, queues.AsArray().Single(q => q!["key"]!.GetValue<string>() == key)!["id"]!.GetValue<string>());
    }

    public static async Task<string> TeamIdAsync(HttpClient client, string name)
    {
        var teams = await client.GetJsonAsync("/v2/organizations/acme/teams");
        return teams.AsArray().Single(t => t!["name"]!.GetValue<string>() == name)!["id"]!.GetValue<string>();
    }

    public static async Task<string> PipelineIdAsync(HttpClient client, string slug) =>
        (await client.GetJsonAsync($"/v2/organizations/acme/pipelines/{slug}"))["id"]!.GetValue<string>();

    public static async Task<string> UserIdAsync(HttpClient client, string email)
    {
        var state = await client.GetJsonAsync("/_sandbox/state");
        return state["organizations"]![0]!["users"]!.AsArray().Single(u => u!["email"]!.GetValue<string>() == email)!["id"]!.GetValue<string>();
    }

    public static async Task<(int Number, JsonObject Build)> BuildAsync(HttpClient client, string pipeline = "web", string? state = null)
    {
        var build = await client.CreateBuildAsync(pipeline);
        var number = build["number"]!.GetValue<int>();
        if (state is not null)
        {
            var (status, _, _) = await client.SetBuildStateAsync(pipeline, number, state);
            Assert.Equal(204, status);
        }

        return (number, build);
    }

    public static string JobId(JsonObject build, string type = "script") =>
        build["jobs"]!.AsArray().First(j => j!["type"]!.GetValue<string>() == type)!["id"]!.GetValue<string>();

    public static async Task<string> AnnotationAsync(HttpClient client, int number, string? jobId = null)
    {
        var path = jobId is null
            ? $"/v2/organizations/acme/pipelines/web/builds/{number}/annotations"
            : $"/v2/organizations/acme/jobs/{jobId}/annotations";
        var (status, body, _) = await client.SendAsync(HttpMethod.Post, path, new JsonObject { ["body"] = "*hello*", ["context"] = "ctx" });
        Assert.Equal(201, status);
        return body!["id"]!.GetValue<string>();
    }

    public static async Task<string> ScheduleAsync(HttpClient client)
    {
        var (status, body, _) = await client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines/web/schedules", new JsonObject
        {
            ["cronline"] = "@daily",
            ["label"] = "Nightly",
            ["message"] = "Nightly build",
            ["env"] = new JsonObject { ["NIGHTLY"] = "1" },
        });
        Assert.Equal(201, status);
        return body!["id"]!.GetValue<string>();
    }

    public static async Task<string> NewClusterAsync(HttpClient client, string name = "Disposable")
    {
        var (status, body, _) = await client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/clusters", new JsonObject { ["name"] = name });
        Assert.Equal(201, status);
        return body!["id"]!.GetValue<string>();
    }

    public static async Task SendOkAsync(HttpClient client, HttpMethod method, string path, JsonNode? body = null)
    {
        var (status, answer, _) = await client.SendAsync(method, path, body);
        Assert.True(status is >= 200 and < 300, $"{method} {path} answered {status}: {answer?.ToJsonString()}");
    }
}
