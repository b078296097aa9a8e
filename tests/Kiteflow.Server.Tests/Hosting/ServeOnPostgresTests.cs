using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Server.Tests.Hosting;

/// <summary><c>kiteflow serve</c> as a real process on the throwaway PostgreSQL: it keeps its data there and never prints the password.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ServeOnPostgresTests(PostgresServerFixture postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Serve_StorePostgres_AnswersHealthz_KeepsItsDataInPostgres_NeverPrintsThePassword()
    {
        var database = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()).Database!;
        var uri = postgres.Server.UriFor(database);
        var printed = new List<string>();
        string password;

        // First start: --store on the command line; the admin is created in PostgreSQL.
        await using (var first = await ServeProcess.StartAsync(["--store", uri], new Dictionary<string, string>()))
        {
            var created = await first.ReadLineAsync();
            var listening = await first.ReadLineAsync();
            password = OneTimePassword().Match(created ?? string.Empty).Groups[1].Value;
            Assert.True(password.Length == 20, $"stdout: {created}\n{listening}");
            Assert.StartsWith($"Kiteflow is listening on {first.Url}", listening);
            printed.AddRange([created!, listening!]);

            using var client = new HttpClient { BaseAddress = first.BaseAddress };
            var health = JsonNode.Parse(await client.GetStringAsync("/healthz"))!;
            Assert.Equal(("Healthy", "postgres"), ((string)health["status"]!, (string)health["cluster"]!["clustering"]!));
            Assert.Equal($"postgres://{PostgresServer.Superuser}@127.0.0.1:{postgres.Server.Port.ToString(CultureInfo.InvariantCulture)}/{database}", (string)health["store"]!["location"]!);
            using var admin = await LogInAsync(first.BaseAddress, password);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/datasets", new { name = "kept-in-postgres", source = "ingest" })).StatusCode);

            printed.AddRange(await first.StopAsync());
        }

        Assert.Equal(1L, await ScalarAsync<long>(database, "SELECT count(*) FROM datasets WHERE name = 'kept-in-postgres'"));
        Assert.Contains(printed, line => line.Contains($"Store postgres://{PostgresServer.Superuser}@127.0.0.1:{postgres.Server.Port.ToString(CultureInfo.InvariantCulture)}/{database} at schema version", StringComparison.Ordinal));

        // Second start, in a new data folder: KITEFLOW_STORE names the same database, so the admin and the dataset are there.
        await using (var second = await ServeProcess.StartAsync([], new Dictionary<string, string> { ["KITEFLOW_STORE"] = uri }))
        {
            var listening = await second.ReadLineAsync();
            Assert.StartsWith($"Kiteflow is listening on {second.Url}", listening);
            printed.Add(listening!);
            using var admin = await LogInAsync(second.BaseAddress, password);
            Assert.Contains("kept-in-postgres", await admin.GetStringAsync("/api/v1/datasets"));
            using var client = new HttpClient { BaseAddress = second.BaseAddress };
            var health = JsonNode.Parse(await client.GetStringAsync("/healthz"))!;
            Assert.Equal(("Healthy", "postgres"), ((string)health["status"]!, (string)health["cluster"]!["clustering"]!));
            Assert.Equal($"postgres://{PostgresServer.Superuser}@127.0.0.1:{postgres.Server.Port.ToString(CultureInfo.InvariantCulture)}/{database}", (string)health["store"]!["location"]!);

            printed.AddRange(await second.StopAsync());
        }

        Assert.NotEmpty(printed);
        Assert.DoesNotContain(printed, line => line.Contains(postgres.Server.Password, StringComparison.Ordinal) || line.Contains(Uri.EscapeDataString(postgres.Server.Password), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Serve_StorePostgresWithAWrongPassword_ExitsOneWithOneLineWithoutThePassword()
    {
        var database = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()).Database!;
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        var uri = string.Create(CultureInfo.InvariantCulture, $"postgres://{PostgresServer.Superuser}:{wrong}@127.0.0.1:{postgres.Server.Port}/{database}");

        await using var serve = await ServeProcess.StartAsync(["--store", uri], new Dictionary<string, string>());
        var (exitCode, stdout, stderr) = await serve.WaitForExitAsync();

        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("kiteflow:", StringComparison.Ordinal));
        Assert.Contains("could not start", line);
        Assert.Contains("password authentication failed", line);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain(wrong, stdout + stderr);
    }

    private static async Task<HttpClient> LogInAsync(Uri baseAddress, string password)
    {
        var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer() }) { BaseAddress = baseAddress };
        using var response = await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = await response.Content.ReadFromJsonAsync<JsonNode>();
        client.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)session!["antiforgeryToken"]!);
        return client;
    }

    private async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var source = NpgsqlDataSource.Create(postgres.Server.ConnectionStringFor(database));
        await using var command = source.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    [GeneratedRegex("one-time password: (\\S+)")]
    private static partial Regex OneTimePassword();

    /// <summary>The built <c>kiteflow serve</c> in a process of its own, on a free port, with a fresh data folder.</summary>
    private sealed class ServeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _errors;
        private readonly string _home;

        private ServeProcess(Process process, string home, Uri baseAddress)
        {
            _process = process;
            _home = home;
            BaseAddress = baseAddress;
            _errors = process.StandardError.ReadToEndAsync();
        }

        public Uri BaseAddress { get; }

        public string Url => BaseAddress.GetLeftPart(UriPartial.Authority);

        public static Task<ServeProcess> StartAsync(string[] arguments, Dictionary<string, string> environment)
        {
            var home = Directory.CreateTempSubdirectory("kiteflow-serve-pg-test-").FullName;
            var address = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}"));
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
            start.ArgumentList.Add("serve");
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(address.GetLeftPart(UriPartial.Authority));
            foreach (var argument in (string[])["--silo-port", FreePort().ToString(CultureInfo.InvariantCulture), "--gateway-port", FreePort().ToString(CultureInfo.InvariantCulture), "--silo-address", "127.0.0.1"])
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["KITEFLOW_HOME"] = home;
            foreach (var name in new[] { "KITEFLOW_ADMIN_PASSWORD", "KITEFLOW_MASTER_KEY", "KITEFLOW_STORE" })
            {
                start.Environment.Remove(name);
            }

            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }

            return Task.FromResult(new ServeProcess(Process.Start(start)!, home, address));
        }

        public Task<string?> ReadLineAsync() => _process.StandardOutput.ReadLineAsync().WaitAsync(Patience);

        /// <summary>SIGTERM, then waits for exit 0; returns every line it printed (stdout and stderr).</summary>
        public async Task<List<string>> StopAsync()
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await term.WaitForExitAsync();
            }

            var (exitCode, stdout, stderr) = await WaitForExitAsync();
            Assert.True(exitCode == 0, stderr);
            return [.. (stdout + "\n" + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
        }

        public async Task<(int ExitCode, string Stdout, string Stderr)> WaitForExitAsync()
        {
            var stdout = await _process.StandardOutput.ReadToEndAsync().WaitAsync(Patience);
            await _process.WaitForExitAsync().WaitAsync(Patience);
            return (_process.ExitCode, stdout, await _errors);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            Directory.Delete(_home, recursive: true);
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
