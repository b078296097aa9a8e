namespace Kiteflow.Sandbox.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task StartAsync_DefaultOptions_ServesTheSeededOrganization()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var org = await sandbox.Client.GetJsonAsync("/v2/organizations/acme");
        var build = await sandbox.Client.CreateBuildAsync();

        Assert.Equal("acme", org["slug"]!.GetValue<string>());
        Assert.Equal(1, build["number"]!.GetValue<int>());
        Assert.StartsWith("http://127.0.0.1:", sandbox.Server.BaseAddress.ToString(), StringComparison.Ordinal);
    }
}
