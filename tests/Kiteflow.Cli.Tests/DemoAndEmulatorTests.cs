using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Kiteflow.Cli.Tests;

public sealed class DemoAndEmulatorTests
{
    [Fact]
    public async Task Demo_DeliversTheBundledExampleThroughTheSandbox()
    {
        var directory = Directory.CreateTempSubdirectory("kiteflow-demo-test-").FullName;
        try
        {
            var (exitCode, output, error) = await CliRunner.RunAsync("demo", "--output", directory);

            Assert.True(exitCode == 0, error);
            Assert.Contains("Delivered 24 of 24 records", output);
            Assert.Contains("https://buildkite.com/acme/", output);
            var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "summary.json")))!;
            Assert.Equal(24, (int)summary["delivered"]!);
            var responses = await File.ReadAllLinesAsync(Path.Combine(directory, "responses.jsonl"));
            Assert.Equal(24, responses.Length);
            Assert.All(responses, line => Assert.Equal(201, (int)JsonNode.Parse(line)!["response"]!["status"]!));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Emulator_PrintsItsBaseUrlFirst_AnswersLikeBuildkite_StopsCleanlyOnSigterm()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        start.ArgumentList.Add("emulator");
        start.ArgumentList.Add("--token");
        start.ArgumentList.Add("bkua_cli_emulator_test_token_0123456789:read_builds");
        using var emulator = Process.Start(start)!;
        try
        {
            var first = await emulator.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Matches(@"^http://127\.0\.0\.1:\d+/?$", first);
            var baseUrl = new Uri(first!);

            using var client = new HttpClient();
            var root = JsonNode.Parse(await client.GetStringAsync(baseUrl))!;
            Assert.Equal("🛠", (string?)root["message"]);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "/v2/access-token"));
            request.Headers.Authorization = new("Bearer", "bkua_cli_emulator_test_token_0123456789");
            var token = JsonNode.Parse(await (await client.SendAsync(request)).Content.ReadAsStringAsync())!;
            Assert.Equal("read_builds", (string?)token["scopes"]![0]);

            using var term = Process.Start("kill", ["-TERM", emulator.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await term.WaitForExitAsync();
            await emulator.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, emulator.ExitCode);
        }
        finally
        {
            if (!emulator.HasExited)
            {
                emulator.Kill(entireProcessTree: true);
            }
        }
    }
}
