using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

public sealed class FaultTests
{
    private const string Builds = "/v2/organizations/acme/pipelines/web/builds";
    private const string BuildsPattern = "/v2/organizations/*/pipelines/*/builds";

    private static JsonObject NewBuild => new() { ["commit"] = "HEAD", ["branch"] = "main" };

    private static async Task<int> BuildCountAsync(TestSandbox sandbox) =>
        (await sandbox.Client.GetJsonAsync("/_sandbox/state?pipeline=web"))["organizations"]![0]!["builds"]!.AsArray().Count;

    private static Task SetFaultsAsync(TestSandbox sandbox, string rules) =>
        World.SendOkAsync(sandbox.Client, HttpMethod.Post, "/_sandbox/faults", JsonNode.Parse(rules));

    [Fact]
    public async Task Before_Respond_FailsWithoutTouchingState()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        await SetFaultsAsync(sandbox, $$"""{"rules": [{"method": "POST", "path": "{{BuildsPattern}}", "when": "before", "status": 503}]}""");

        var (status, body, _) = await sandbox.Client.SendAsync(HttpMethod.Post, Builds, NewBuild);
        var log = await sandbox.Client.GetJsonAsync("/_sandbox/requests");

        Assert.Equal(503, status);
        Assert.Equal("Service Unavailable", body!["message"]!.GetValue<string>());
        Assert.Equal(0, await BuildCountAsync(sandbox));
        Assert.Equal("before:respond:503", log["requests"]![0]!["fault"]!.GetValue<string>());
        Assert.Equal(503, log["requests"]![0]!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task After_Respond_DoesTheWorkThenFails()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        await SetFaultsAsync(sandbox, $$"""{"rules": [{"method": "POST", "path": "{{BuildsPattern}}", "when": "after", "status": 502}]}""");

        var (status, _, response) = await sandbox.Client.SendAsync(HttpMethod.Post, Builds, NewBuild);
        var (other, _, _) = await sandbox.Client.SendAsync(HttpMethod.Get, Builds);

        Assert.Equal(502, status);
        Assert.True(response.Headers.Contains("RateLimit-Remaining"));
        Assert.Equal(1, await BuildCountAsync(sandbox));
        Assert.Equal(200, other);
    }

    [Fact]
    public async Task After_Drop_CreatesTheBuildAndClosesTheConnection()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        sandbox.Server.SetFaults([new SandboxFaultRule { Method = "POST", Path = BuildsPattern, When = SandboxFaultWhen.After, Action = SandboxFaultAction.Drop }]);

        await Assert.ThrowsAsync<HttpRequestException>(() => sandbox.Client.SendAsync(HttpMethod.Post, Builds, NewBuild));

        Assert.Equal(1, await BuildCountAsync(sandbox));
        var entry = (await sandbox.Client.GetJsonAsync("/_sandbox/requests"))["requests"]![0]!;
        Assert.Equal("after:drop", entry["fault"]!.GetValue<string>());
        Assert.Null(entry["status"]);
    }

    [Fact]
    public async Task After_Hang_NeverAnswersUntilTheClientGivesUp()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        sandbox.Server.SetFaults([new SandboxFaultRule { Method = "POST", Path = BuildsPattern, When = SandboxFaultWhen.After, Action = SandboxFaultAction.Hang }]);
        using var impatient = sandbox.ClientFor(SandboxServer.DefaultToken, TimeSpan.FromMilliseconds(300));

        var timeout = await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.SendAsync(HttpMethod.Post, Builds, NewBuild));

        Assert.IsType<TimeoutException>(timeout.InnerException);

        // The build is made, then the answer never comes. On a loaded machine the client may give up before the
        // sandbox has even handled the request, so wait for the build (generously) rather than expect it at once.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await BuildCountAsync(sandbox) == 0 && !patience.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        Assert.Equal(1, await BuildCountAsync(sandbox));
    }

    [Fact]
    public async Task Delay_WaitsOnTheSandboxClockThenHandlesNormally()
    {
        await using var sandbox = await TestSandbox.StartAsync(fakeTime: true);
        sandbox.Server.SetFaults([new SandboxFaultRule { Path = BuildsPattern, Action = SandboxFaultAction.Delay, DelayMs = 5_000 }]);

        var pending = sandbox.Client.SendAsync(HttpMethod.Post, Builds, NewBuild);
        while ((await sandbox.Client.GetJsonAsync("/_sandbox/requests"))["count"]!.GetValue<int>() == 0)
        {
            await Task.Yield();
        }

        Assert.False(pending.IsCompleted);
        Assert.Equal(0, await BuildCountAsync(sandbox));
        sandbox.Time!.Advance(TimeSpan.FromSeconds(5));
        var (status, _, _) = await pending;

        Assert.Equal(201, status);
        Assert.Equal(1, await BuildCountAsync(sandbox));
    }

    [Fact]
    public async Task Count_LimitsHowOftenARuleFires()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        sandbox.Server.SetFaults([new SandboxFaultRule { Method = "POST", Path = BuildsPattern, Count = 2, Status = 500 }]);

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await sandbox.Client.SendAsync(HttpMethod.Post, Builds, NewBuild)).Status);
        }

        Assert.Equal([500, 500, 201, 201], statuses);
    }

    [Fact]
    public async Task Probability_IsDeterministicUnderARandomSeed()
    {
        async Task<List<int>> RunAsync()
        {
            await using var sandbox = await TestSandbox.StartAsync(o => o.RandomSeed = 7);
            sandbox.Server.SetFaults([new SandboxFaultRule { Path = "/v2/organizations/*", Probability = 0.5 }]);
            var statuses = new List<int>();
            for (var i = 0; i < 20; i++)
            {
                statuses.Add((await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme")).Status);
            }

            return statuses;
        }

        var first = await RunAsync();
        var second = await RunAsync();

        Assert.Equal(first, second);
        Assert.Contains(503, first);
        Assert.Contains(200, first);
    }

    [Fact]
    public async Task Faults_InvalidRulesAreRefusedAndDeleteClears()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var (invalid, error, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/_sandbox/faults",
            JsonNode.Parse("""{"rules": [{"path": "no-slash", "probability": 2}, {"action": "explode"}]}"""));
        await SetFaultsAsync(sandbox, """{"rules": [{"path": "/**"}]}""");
        var (faulted, _, _) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme");
        await World.SendOkAsync(sandbox.Client, HttpMethod.Delete, "/_sandbox/faults");
        var (cleared, _, _) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme");

        Assert.Equal(400, invalid);
        var errors = error!["errors"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.Contains(errors, e => e.StartsWith("rules[0].path", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rules[0].probability", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rules[1]:", StringComparison.Ordinal) && e.Contains("action", StringComparison.Ordinal));
        Assert.Equal(503, faulted);
        Assert.Equal(200, cleared);
    }

    [Fact]
    public async Task FaultsFile_AppliesFromTheStart()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, $$"""{"rules": [{"method": "POST", "path": "{{BuildsPattern}}", "status": 500}]}""");
            await using var sandbox = await TestSandbox.StartAsync(o => o.FaultsFile = file);

            Assert.Equal(500, (await sandbox.Client.SendAsync(HttpMethod.Post, Builds, NewBuild)).Status);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("/v2/organizations/*/pipelines/*/builds", "/v2/organizations/acme/pipelines/web/builds", true)]
    [InlineData("/v2/organizations/*/pipelines/*/builds", "/v2/organizations/acme/pipelines/web/builds/1/cancel", false)]
    [InlineData("/v2/**/cancel", "/v2/organizations/acme/pipelines/web/builds/1/cancel", true)]
    [InlineData("/**", "/", true)]
    [InlineData("/v2/organizations/acme", "/v2/organizations/ACME", true)]
    public void PathMatches_SegmentGlobs(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Faulting.FaultInjector.PathMatches(pattern, path));
}
