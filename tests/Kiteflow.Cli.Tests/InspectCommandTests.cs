using System.Text.Json;

namespace Kiteflow.Cli.Tests;

public sealed class InspectCommandTests
{
    [Fact]
    public async Task InspectJson_ListsPathsTypesAndCounts()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync("inspect", "--input", CliRunner.Example("create-pipelines/pipelines.csv"), "--json");

        Assert.Equal(0, exitCode);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(3, document.RootElement.GetProperty("records").GetInt32());
        var attributes = document.RootElement.GetProperty("attributes").EnumerateArray()
            .ToDictionary(a => a.GetProperty("path").GetString()!, a => (string.Join('|', a.GetProperty("types").EnumerateArray().Select(t => t.GetString())), a.GetProperty("records").GetInt32()));
        Assert.Equal(("string", 3), attributes["name"]);
        Assert.Equal(("object", 3), attributes["provider_settings"]);
        Assert.Equal(("boolean", 3), attributes["provider_settings.build_pull_requests"]);
    }

    [Fact]
    public async Task Inspect_Text_ArrayItemsAndMixedTypes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kf-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllTextAsync(path, "{\"a\":1,\"tags\":[\"x\"]}\n{\"a\":\"one\"}\nbad\n");
        try
        {
            var (exitCode, output, error) = await CliRunner.RunAsync("inspect", "-i", path);

            Assert.Equal(0, exitCode);
            Assert.Matches(@"a\s+number\|string\s+2", output);
            Assert.Matches(@"tags\[\]\s+string\s+1", output);
            Assert.Contains("2 records read, 1 could not be read.", output);
            Assert.Contains("record 2 (line 3) cannot be read", error);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
