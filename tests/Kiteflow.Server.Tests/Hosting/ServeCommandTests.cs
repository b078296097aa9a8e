using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kiteflow.Server.Tests.Hosting;

public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task Serve_PrintsUrlAndOneTimePassword_AnswersHealthz_LetsTheAdminIn_ExitsCleanlyOnSigterm()
    {
        var home = Directory.CreateTempSubdirectory("kiteflow-serve-test-").FullName;
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["KITEFLOW_HOME"] = home;
        start.Environment.Remove("KITEFLOW_ADMIN_PASSWORD");
        start.Environment.Remove("KITEFLOW_MASTER_KEY");
        using var server = Process.Start(start)!;
        var errors = server.StandardError.ReadToEndAsync();
        try
        {
            var first = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var second = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var password = OneTimePassword().Match(first ?? string.Empty).Groups[1].Value;
            Assert.True(password.Length == 20, $"stdout: {first}\n{second}");
            Assert.StartsWith($"Kiteflow is listening on http://127.0.0.1:{port}", second);

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var health = JsonNode.Parse(await client.GetStringAsync("/healthz"))!;
            Assert.Equal(("Healthy", "Healthy", "localhost", 1), ((string)health["status"]!, (string)health["store"]!["status"]!, (string)health["cluster"]!["clustering"]!, health["cluster"]!["activeSilos"]!.AsArray().Count));
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password })).StatusCode);

            using var term = Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await term.WaitForExitAsync();
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(server.ExitCode == 0, await errors);
            Assert.DoesNotContain(password, await errors);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }

            Directory.Delete(home, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("one-time password: (\\S+)")]
    private static partial Regex OneTimePassword();
}
