using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Microsoft.Data.Sqlite;

namespace Kiteflow.Server.Tests.Endpoints;

public sealed class CredentialEndpointsTests : IAsyncLifetime
{
    // A token the embedded sandbox accepts, so that the check reaches a real answer.
    private const string Token = "bkua_credential_test_0123456789abcdef0123";

    private ServerHarness _server = null!;
    private HttpClient _client = null!;
    private readonly List<string> _answers = [];

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync(o => o.Sandbox.Tokens.Add(new SandboxToken(Token, ["read_builds", "write_builds"])));
        _client = await _server.LoginAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Token_IsNeverInAnyAnswer_LogLine_AuditEntry_OrTheStoreFile()
    {
        var sandbox = (string)(await GetAsync("/api/v1/credentials/sandbox"))["apiBase"]!;
        var created = await _client.PostAsJsonAsync("/api/v1/credentials", new { name = "acme", token = Token, apiBase = sandbox });
        _answers.Add(await created.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var check = await PostAsync("/api/v1/credentials/acme/check");
        await GetAsync("/api/v1/credentials");
        await GetAsync("/api/v1/credentials/acme");
        await GetAsync("/api/v1/audit?limit=500");
        var duplicate = await _client.PostAsJsonAsync("/api/v1/credentials", new { name = "acme", token = Token });
        _answers.Add(await duplicate.Content.ReadAsStringAsync());
        var badToken = await _client.PostAsJsonAsync("/api/v1/credentials", new { name = "spaced", token = Token + " with space" });
        _answers.Add(await badToken.Content.ReadAsStringAsync());
        _answers.Add(await _client.GetStringAsync("/metrics"));

        Assert.True((bool)check["valid"]!);
        Assert.Equal(["read_builds", "write_builds"], check["token"]!["scopes"]!.AsArray().Select(s => (string)s!));
        Assert.Equal(HttpStatusCode.BadRequest, badToken.StatusCode);
        Assert.Contains("acme", string.Concat(_answers));
        Assert.DoesNotContain(Token, string.Concat(_answers));
        Assert.DoesNotContain(Token, string.Join('\n', _server.Logs.Lines));
        Assert.DoesNotContain(Token, _server.Output.ToString());
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_server.DataDirectory, "kiteflow.db")};Mode=ReadOnly;Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(details, ' ') FROM audit_log";
        Assert.DoesNotContain(Token, (string)(await command.ExecuteScalarAsync())!);
        var database = await File.ReadAllBytesAsync(Path.Combine(_server.DataDirectory, "kiteflow.db-wal"));
        Assert.Equal(-1, database.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(Token)));
    }

    [Fact]
    public async Task SandboxCredential_IsThere_ChecksValid_AndCannotBeDeleted()
    {
        var list = await _client.GetFromJsonAsync<JsonArray>("/api/v1/credentials");
        var sandbox = list!.Single(c => (string?)c!["name"] == "sandbox")!;

        var check = await PostAsync("/api/v1/credentials/sandbox/check");
        var delete = await _client.DeleteAsync("/api/v1/credentials/sandbox");

        Assert.Equal("sandbox", (string?)sandbox["kind"]);
        Assert.StartsWith("http://127.0.0.1:", (string)sandbox["apiBase"]!);
        Assert.True((bool)check["valid"]!);
        Assert.Contains("write_builds", check["token"]!["scopes"]!.AsArray().Select(s => (string)s!));
        Assert.DoesNotContain(SandboxServer.DefaultToken, string.Concat(_answers));
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
    }

    [Fact]
    public async Task Create_InvalidFields_EachNamed_NothingStored()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/credentials", new { name = "-bad name", token = "", apiBase = "http://example.com" });
        var problem = await response.Content.ReadFromJsonAsync<JsonNode>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["apiBase", "name", "token"], problem!["errors"]!.AsObject().Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Single((await _client.GetFromJsonAsync<JsonArray>("/api/v1/credentials"))!);
    }

    private async Task<JsonNode> GetAsync(string path)
    {
        var text = await _client.GetStringAsync(path);
        _answers.Add(text);
        return JsonNode.Parse(text)!;
    }

    private async Task<JsonNode> PostAsync(string path)
    {
        var response = await _client.PostAsync(path, null);
        var text = await response.Content.ReadAsStringAsync();
        _answers.Add(text);
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!;
    }
}
