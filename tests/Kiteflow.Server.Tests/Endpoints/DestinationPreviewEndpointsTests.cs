using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Core.Planning;
using Kiteflow.Sandbox;
using Kiteflow.Server.Hosting;
using Microsoft.Data.Sqlite;

namespace Kiteflow.Server.Tests.Endpoints;

public sealed class DestinationPreviewEndpointsTests : IAsyncLifetime
{
    private const string BuildsUrl = "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds";

    // The token of the second sandbox, a credential that is not the embedded sandbox's.
    private const string SecondToken = "bkua_second_sandbox_0123456789abcdef012345";

    private static readonly string Records = string.Join('\n',
        """{"org":"acme","pipeline":"web","commit":"1000000000000000000000000000000000000000","branch":"main","message":"Ship it 🚂","env":{"N":1}}""",
        """{"org":"acme","pipeline":"api","commit":"2000000000000000000000000000000000000000","branch":"main","message":"Second"}""",
        """{"org":"acme","commit":"3000000000000000000000000000000000000000","branch":"main","message":"no pipeline"}""",
        """{"org":"acme","pipeline":"web","commit":"4000000000000000000000000000000000000000","branch":"release","message":"Fourth","colour":"red"}""",
        """{"org":"acme","pipeline":"web","commit":"5000000000000000000000000000000000000000","message":"no branch"}""",
        """{"org":"acme","pipeline":"api","commit":"6000000000000000000000000000000000000000","branch":"main","message":"Sixth","big":12345678901234567890.5}""");

    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-preview-api-").FullName;
    private readonly List<string> _answers = [];
    private ServerHarness _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync();
        _client = await _server.LoginAsync();
        await CreateDatasetAsync("builds", Records);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    public static TheoryData<string, bool> SameAsCli => new()
    {
        // Create builds: one per record, a template and a validation rejection, an unknown field, delivery ids.
        { """{"name":"trigger","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"]}""", false },
        { """{"name":"trigger","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline","nowhere"],"headers":"X-Team:platform,X-Trace:{commit}"}""", true },

        // Batches under a property, grouped by URL; a body template; another format.
        { """{"name":"batches","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/things","batching":{"enabled":true,"batchSize":2,"algorithm":"property","propertyName":"items","otherProps":{"source":"kiteflow"}}}""", true },
        { """{"name":"notes","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline=web}/builds/1/annotations","bodyTemplate":{"body":"Deployed {commit} — {message}","style":"info","context":"{pipeline=none}"}}""", false },
        { """{"name":"csv","method":"PUT","contentFormat":"csv","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline=x}"}""", false },
    };

    [Theory]
    [MemberData(nameof(SameAsCli))]
    public async Task Preview_UnsavedSettings_IsTheDocumentOfKiteflowPreviewJson(string settings, bool withSandboxCredential)
    {
        var destinationFile = Write("destination.json", settings);
        var input = Write("records.jsonl", Records + "\n");
        var sandbox = withSandboxCredential ? (string)(await _client.GetFromJsonAsync<JsonNode>("/api/v1/credentials/sandbox"))!["apiBase"]! : null;
        string[] args = ["preview", "-d", destinationFile, "-i", input, "-n", "3", "--json", .. sandbox is null ? Array.Empty<string>() : ["--api-base", sandbox]];
        var (exitCode, cliOutput, cliError) = await RunKiteflowAsync(args);
        Assert.True(exitCode == 0, cliError);

        var response = await _client.PostAsJsonAsync("/api/v1/destinations/preview", new
        {
            dataset = "builds",
            credential = withSandboxCredential ? "sandbox" : null,
            settings = JsonNode.Parse(settings),
            limit = 3,
        });
        var answer = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, answer);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        // The CLI names create-build delivery ids after the file and the input; the server's preview after nothing saved.
        var runKey = DeliveryIds.RunKey(await File.ReadAllBytesAsync(destinationFile), input);
        var cli = JsonNode.Parse(cliOutput.Replace(runKey + "-", "preview-", StringComparison.Ordinal))!;
        var server = JsonNode.Parse(answer)!;
        Assert.True(JsonNode.DeepEquals(cli, server), $"CLI:\n{cli.ToJsonString()}\nserver:\n{server.ToJsonString()}");
        Assert.NotEmpty(server["requests"]!.AsArray());
        Assert.DoesNotContain(SandboxServer.DefaultToken, answer);
    }

    [Fact]
    public async Task Preview_CreateBuilds_ShowsRejectionsWithOffsetsAndTheMaskedToken()
    {
        var preview = await PreviewAsync(new { dataset = "builds", credential = "sandbox", settings = new { url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline" } }, limit = 10 });

        var requests = preview["requests"]!.AsArray();
        Assert.Equal([[0], [1], [3], [5]], requests.Select(r => r!["records"]!.AsArray().Select(p => (int)p!).ToArray()));
        Assert.All(requests, r => Assert.Equal("Bearer ••••", (string?)r!["headers"]!["Authorization"]));
        Assert.StartsWith("http://127.0.0.1:", (string)requests[0]!["url"]!);
        Assert.Equal("Ship it 🚂", (string?)requests[0]!["body"]!["message"]);
        Assert.Equal([(2, 3, "template"), (4, 5, "validate")], preview["rejected"]!.AsArray().Select(r => ((int)r!["record"]!, (int)r["line"]!, (string)r["stage"]!)));
        Assert.Equal("builds.create", (string?)preview["endpoint"]);
        Assert.Equal("unsaved", (string?)preview["destination"]);
    }

    [Fact]
    public async Task Preview_InvalidSettings_NamesEveryFieldAndPlansNothing()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/destinations/preview", new
        {
            dataset = "nope",
            credential = "missing",
            limit = 0,
            settings = new { url = BuildsUrl, method = "FETCH", headers = "Authorization:x", batching = new { enabled = true, batchSize = 0 }, colour = "red" },
        });
        var problem = (await response.Content.ReadFromJsonAsync<JsonNode>())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var keys = problem["errors"]!.AsObject().Select(e => e.Key).Order().ToList();
        Assert.Equal(["credential", "dataset", "limit", "settings.batching.batchSize", "settings.colour", "settings.headers", "settings.method"], keys);
        Assert.Null(problem["requests"]);

        var noSettings = await _client.PostAsJsonAsync("/api/v1/destinations/preview", new { dataset = "builds" });
        Assert.Equal(["settings"], (await noSettings.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task PreviewAndSave_ABuildkiteTokenTypedIntoTheSettings_RefusedAtItsField_NeverEchoed()
    {
        const string token = "bkua_5f0c1e2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d";
        var settings = new { url = BuildsUrl, headers = $"X-Token:{token}", excludeAttributes = new[] { "org", "pipeline" } };

        var preview = await _client.PostAsJsonAsync("/api/v1/destinations/preview", new { dataset = "builds", credential = "sandbox", settings });
        var saved = await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "leaky", dataset = "builds", credential = "sandbox", settings });

        foreach (var response in new[] { preview, saved })
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(["settings.headers"], JsonNode.Parse(text)!["errors"]!.AsObject().Select(e => e.Key));
            Assert.DoesNotContain(token[5..], text, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/destinations/leaky")).StatusCode);
    }

    [Fact]
    public async Task Preview_ASettingGivenTwice_RefusedAtItsField()
    {
        using var body = new StringContent($$"""
            {"dataset":"builds","credential":"sandbox","settings":{"url":"{{BuildsUrl}}","url":"{{BuildsUrl}}?x=1"} }
            """, System.Text.Encoding.UTF8, "application/json");

        var response = await _client.PostAsync("/api/v1/destinations/preview", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal(["settings.url"], errors.Select(e => e.Key));
    }

    [Fact]
    public async Task PreviewSaved_UsesTheSavedSettings_OrTheUnsavedEditsInTheBody()
    {
        var created = await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "deploys", dataset = "builds", credential = "sandbox", settings = new { url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline" } } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var saved = await PostJsonAsync("/api/v1/destinations/deploys/preview", null);
        var edited = await PostJsonAsync("/api/v1/destinations/deploys/preview", new { settings = new { url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline", "message" } }, limit = 1 });
        var invalid = await _client.PostAsJsonAsync("/api/v1/destinations/deploys/preview", new { settings = new { url = BuildsUrl, method = "FETCH" } });
        var missing = await _client.PostAsync("/api/v1/destinations/nope/preview", null);

        Assert.Equal("deploys", (string?)saved["destination"]);
        Assert.Equal(4, saved["requests"]!.AsArray().Count);
        Assert.Equal("Ship it 🚂", (string?)saved["requests"]![0]!["body"]!["message"]);
        Assert.Single(edited["requests"]!.AsArray());
        Assert.Null(edited["requests"]![0]!["body"]!["message"]);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("settings.method", (await invalid.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Test_Sandbox_CreatesExactlyOneBuild_AnswersItsResponse_IsAudited_NoTokenAnywhere()
    {
        var answer = await PostJsonAsync("/api/v1/destinations/test", new { dataset = "builds", credential = "sandbox", settings = new { name = "trigger", url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline" } } });

        Assert.Equal("answered", (string?)answer["outcome"]);
        Assert.Equal(201, (int)answer["response"]!["status"]!);
        Assert.Equal(1, (int)answer["response"]!["body"]!["number"]!);
        Assert.Contains("RateLimit-Remaining", answer["response"]!["headers"]!.AsObject().Select(h => h.Key));
        Assert.Equal([0], answer["request"]!["records"]!.AsArray().Select(r => (int)r!));
        Assert.Equal("Bearer ••••", (string?)answer["request"]!["headers"]!["Authorization"]);
        var deliveryId = (string)answer["request"]!["deliveryId"]!;
        Assert.StartsWith("kftest", deliveryId);
        var builds = SandboxBuilds(Embedded());
        var build = Assert.Single(builds);
        Assert.Equal("1000000000000000000000000000000000000000", (string?)build["commit"]);
        Assert.Equal(deliveryId, (string?)build["meta_data"]!["kiteflow_delivery_id"]);

        var audit = (await _client.GetFromJsonAsync<JsonNode>("/api/v1/audit?resourceType=destination"))!["items"]!.AsArray();
        var entry = audit.Single(e => (string?)e!["action"] == "destination.test-send")!;
        Assert.Equal("trigger", (string?)entry["resourceName"]);
        Assert.Equal("admin", (string?)entry["actor"]);
        Assert.Equal(("POST", 201, "sandbox", false), ((string)entry["details"]!["method"]!, (int)entry["details"]!["status"]!, (string)entry["details"]!["credential"]!, (bool)entry["details"]!["saved"]!));
        Assert.Equal((string?)answer["request"]!["url"], (string?)entry["details"]!["url"]);
        Assert.Equal("main", (string?)entry["details"]!["body"]!["branch"]);

        await AssertNoTokenAsync(SandboxServer.DefaultToken);
    }

    [Fact]
    public async Task Test_EditedBody_SendsThatBody_AndAnInvalidOneIsRefusedUnsent()
    {
        var settings = new { url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline" } };
        const string Edited = """{"commit":"abcdef0000000000000000000000000000000000","branch":"edited-branch","message":"Edited by hand ✍️"}""";

        var answer = await PostJsonAsync("/api/v1/destinations/test", new { dataset = "builds", credential = "sandbox", settings, record = 1, body = Edited });
        var invalid = await _client.PostAsJsonAsync("/api/v1/destinations/test", new { dataset = "builds", credential = "sandbox", settings, body = "{\"commit\": " });

        Assert.Equal(201, (int)answer["response"]!["status"]!);
        Assert.True((bool)answer["request"]!["bodyEdited"]!);
        Assert.Equal("edited-branch", (string?)answer["request"]!["body"]!["branch"]);
        var build = Assert.Single(SandboxBuilds(Embedded()));
        Assert.Equal(("edited-branch", "Edited by hand ✍️", "api"), ((string)build["branch"]!, (string)build["message"]!, (string)build["pipeline"]!));
        var received = JsonNode.Parse(await new HttpClient().GetStringAsync(new Uri(Embedded().BaseAddress, "/_sandbox/requests")))!;
        Assert.Contains(received["requests"]!.AsArray(), r => (string?)r!["method"] == "POST" && (string?)r["body"] == Edited);

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problem = (await invalid.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Contains("not valid JSON", (string)problem["errors"]!["body"]![0]!);
        Assert.Single(SandboxBuilds(Embedded()));
    }

    [Fact]
    public async Task Test_CredentialThatIsNotTheSandbox_WithoutConfirm_IsRefusedWithTheCaution_SendsNothing_ThenConfirmedSends()
    {
        await using var second = await SandboxServer.StartAsync(new SandboxOptions { Tokens = { new SandboxToken(SecondToken, ["*"]) } });
        var created = await _client.PostAsJsonAsync("/api/v1/credentials", new { name = "elsewhere", token = SecondToken, apiBase = second.BaseAddress.ToString() });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var request = new { dataset = "builds", credential = "elsewhere", settings = new { url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline" } } };

        var refused = await _client.PostAsJsonAsync("/api/v1/destinations/test", request);
        var refusal = await refused.Content.ReadAsStringAsync();
        var refusedEntries = await AuditCountAsync();

        Assert.Equal(HttpStatusCode.PreconditionRequired, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(refusal)!;
        Assert.Contains("real request", (string)problem["caution"]!);
        Assert.Contains("\"confirm\": true", (string)problem["detail"]!);
        Assert.Empty(SandboxBuilds(second));
        Assert.Empty(JsonNode.Parse(await new HttpClient().GetStringAsync(new Uri(second.BaseAddress, "/_sandbox/requests")))!["requests"]!.AsArray());
        Assert.Equal(0, refusedEntries);

        var confirmed = await PostJsonAsync("/api/v1/destinations/test", new { request.dataset, request.credential, request.settings, confirm = true });

        Assert.Equal(201, (int)confirmed["response"]!["status"]!);
        Assert.Single(SandboxBuilds(second));
        Assert.Empty(SandboxBuilds(Embedded()));
        Assert.Equal(1, await AuditCountAsync());
        _answers.Add(refusal);
        await AssertNoTokenAsync(SecondToken);
    }

    [Fact]
    public async Task TestSaved_ChosenRecord_SendsTheRequestCarryingIt_AndAMissingOrRejectedRecordIsNamed()
    {
        var created = await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "deploys", dataset = "builds", credential = "sandbox", settings = new { url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline" } } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var first = await PostJsonAsync("/api/v1/destinations/deploys/test", null);
        var answer = await PostJsonAsync("/api/v1/destinations/deploys/test", new { record = 3 });
        var beyond = await _client.PostAsJsonAsync("/api/v1/destinations/deploys/test", new { record = 99 });
        var rejected = await _client.PostAsJsonAsync("/api/v1/destinations/deploys/test", new { record = 2 });

        Assert.Equal([0], first["request"]!["records"]!.AsArray().Select(r => (int)r!));
        Assert.Equal([3], answer["request"]!["records"]!.AsArray().Select(r => (int)r!));
        Assert.Equal("deploys", (string?)answer["destination"]);
        Assert.Equal(
            [("1000000000000000000000000000000000000000", "main"), ("4000000000000000000000000000000000000000", "release")],
            SandboxBuilds(Embedded()).Select(b => ((string)b["commit"]!, (string)b["branch"]!)).Order());
        Assert.Equal(HttpStatusCode.BadRequest, beyond.StatusCode);
        Assert.Contains("offsets 0 to 5", (string)(await beyond.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!["record"]![0]!);
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Contains("rejected at template", (string)(await rejected.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!["record"]![0]!);
        Assert.Equal(2, SandboxBuilds(Embedded()).Count);

        var entry = (await _client.GetFromJsonAsync<JsonNode>("/api/v1/audit?resourceType=destination&resourceName=deploys"))!["items"]![0]!;
        Assert.Equal(("destination.test-send", true), ((string)entry["action"]!, (bool)entry["details"]!["saved"]!));
    }

    [Fact]
    public async Task Test_RefusedByTheApi_AnswersTheRealStatusAndMessage()
    {
        var answer = await PostJsonAsync("/api/v1/destinations/test", new
        {
            dataset = "builds",
            credential = "sandbox",
            settings = new { url = "https://api.buildkite.com/v2/organizations/{org}/pipelines/missing-{pipeline}/builds", excludeAttributes = new[] { "org", "pipeline" } },
        });

        Assert.Equal("answered", (string?)answer["outcome"]);
        Assert.Equal(404, (int)answer["response"]!["status"]!);
        Assert.Contains("404", (string)answer["message"]!);
        Assert.Empty(SandboxBuilds(Embedded()));
    }

    [Fact]
    public async Task OpenApi_DescribesPreviewAndTest_AnswersAsJson_TheCautionAs428()
    {
        var paths = (await _client.GetFromJsonAsync<JsonNode>("/openapi/v1.json"))!["paths"]!;

        foreach (var path in new[] { "/api/v1/destinations/preview", "/api/v1/destinations/{name}/preview", "/api/v1/destinations/test", "/api/v1/destinations/{name}/test" })
        {
            var responses = paths[path]!["post"]!["responses"]!;
            Assert.NotNull(responses["200"]!["content"]!["application/json"]);
            Assert.Equal(path.EndsWith("/test", StringComparison.Ordinal), responses["428"] is not null);
        }
    }

    private async Task AssertNoTokenAsync(string token)
    {
        _answers.Add(await _client.GetStringAsync("/api/v1/audit?limit=500"));
        Assert.DoesNotContain(token, string.Concat(_answers));
        Assert.DoesNotContain(token, string.Join('\n', _server.Logs.Lines));
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_server.DataDirectory, "kiteflow.db")};Mode=ReadOnly;Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(details, ' ') FROM audit_log";
        Assert.DoesNotContain(token, (string)(await command.ExecuteScalarAsync())!);
    }

    private async Task<int> AuditCountAsync() =>
        (await _client.GetFromJsonAsync<JsonNode>("/api/v1/audit?resourceType=destination"))!["items"]!.AsArray().Count(e => (string?)e!["action"] == "destination.test-send");

    private SandboxServer Embedded() => _server.Service<EmbeddedSandbox>().Server!;

    private static List<JsonNode> SandboxBuilds(SandboxServer sandbox) =>
        JsonNode.Parse(sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    private async Task<JsonNode> PreviewAsync(object request) => await PostJsonAsync("/api/v1/destinations/preview", request);

    private async Task<JsonNode> PostJsonAsync(string path, object? request)
    {
        using var response = request is null ? await _client.PostAsync(path, null) : await _client.PostAsJsonAsync(path, request);
        var text = await response.Content.ReadAsStringAsync();
        _answers.Add(text);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private async Task CreateDatasetAsync(string name, string jsonLines)
    {
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/datasets", new { name })).StatusCode);
        using var content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson");
        var uploaded = await _client.PostAsync($"/api/v1/datasets/{name}/records", content);
        Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The built kiteflow as a real process.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> RunKiteflowAsync(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, StandardOutputEncoding = Encoding.UTF8 };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output, await error);
    }
}
