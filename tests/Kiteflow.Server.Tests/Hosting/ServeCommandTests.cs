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

    /// <summary>
    /// A first start that cannot listen makes no account (its one-time password would go by with the error, and no later
    /// start would print one); KITEFLOW_ADMIN_PASSWORD on a later start is the way back to a lost password.
    /// </summary>
    [Fact]
    public async Task Serve_AddressTaken_MakesNoAccount_AndAdminPasswordVariableSetsALostPassword()
    {
        var home = Directory.CreateTempSubdirectory("kiteflow-serve-test-").FullName;
        try
        {
            using (var busy = new TcpListener(IPAddress.Loopback, 0))
            {
                busy.Start();
                var taken = ((IPEndPoint)busy.LocalEndpoint).Port;
                using var failed = StartServe(home, taken, adminPassword: null);
                var output = await failed.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
                var errors = await failed.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
                await failed.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.NotEqual(0, failed.ExitCode);
                Assert.DoesNotContain("password", output, StringComparison.Ordinal);
                Assert.Contains("address already in use", errors, StringComparison.Ordinal);
            }

            var port = FreePort();
            string password;
            using (var first = StartServe(home, port, adminPassword: null))
            {
                var line = await first.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
                password = OneTimePassword().Match(line ?? string.Empty).Groups[1].Value;
                Assert.True(password.Length == 20, $"stdout: {line}");
                await StopAsync(first);
            }

            using var second = StartServe(home, port, adminPassword: "a-new-password-42");
            Assert.Equal("Set the password of the user 'admin' from KITEFLOW_ADMIN_PASSWORD.", await second.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120)));
            Assert.StartsWith("Kiteflow is listening on", await second.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = "a-new-password-42" })).StatusCode);
            await StopAsync(second);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_DataIsAFile_OneLineNamingTheOption_Exit2()
    {
        var file = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"), "serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--data", file])
            {
                start.ArgumentList.Add(arg);
            }

            using var serve = Process.Start(start)!;
            var errors = await serve.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
            await serve.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(2, serve.ExitCode);
            Assert.Equal($"kiteflow: --data: '{file}' is a file; give a folder (the server keeps its store, master key and session keys there).", errors.TrimEnd());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Serve_SiloPortOfARunningServer_OneLineNamingTheOption_TheRunningOneGoesOn()
    {
        var siloPort = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var first = Directory.CreateTempSubdirectory("kiteflow-serve-test-").FullName;
        var second = Directory.CreateTempSubdirectory("kiteflow-serve-test-").FullName;
        var port = FreePort();
        using var running = StartServe(first, port, "a-long-test-password", "--silo-port", siloPort, "--silo-address", "127.0.0.1");
        try
        {
            string? line;
            do
            {
                line = await running.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            }
            while (line is not null && !line.StartsWith("Kiteflow is listening", StringComparison.Ordinal));

            // Orleans binds with port reuse: without the check, this one would bind too, and a cluster would take it for
            // the running silo restarted and declare that one dead.
            using var clash = StartServe(second, FreePort(), "a-long-test-password", "--silo-port", siloPort, "--silo-address", "127.0.0.1");
            string errors;
            try
            {
                errors = await clash.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
                await clash.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                if (!clash.HasExited)
                {
                    clash.Kill(entireProcessTree: true);
                }
            }

            Assert.Equal(1, clash.ExitCode);
            Assert.Equal($"kiteflow: the server could not start: --silo-port: port {siloPort} is in use on this machine (another silo?); give a free port.", errors.TrimEnd());
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal("Healthy", (string?)JsonNode.Parse(await client.GetStringAsync("/healthz"))!["status"]);
        }
        finally
        {
            await StopAsync(running);
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    private static Process StartServe(string home, int port, string? adminPassword, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var argument in extra)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["KITEFLOW_HOME"] = home;
        start.Environment.Remove("KITEFLOW_MASTER_KEY");
        if (adminPassword is null)
        {
            start.Environment.Remove("KITEFLOW_ADMIN_PASSWORD");
        }
        else
        {
            start.Environment["KITEFLOW_ADMIN_PASSWORD"] = adminPassword;
        }

        return Process.Start(start)!;
    }

    private static async Task StopAsync(Process server)
    {
        try
        {
            using var term = Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await term.WaitForExitAsync();
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }
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
