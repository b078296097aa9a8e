using Kiteflow.Core.Planning;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Tests.Planning;

public sealed class DestinationTests
{
    private static IReadOnlyList<SettingsProblem> ReadAndCompile(string json)
    {
        var (settings, readProblems) = DestinationSettingsReader.Read(json, "test");
        var (destination, problems) = Destination.Compile(settings, readProblems);
        Assert.Null(destination);
        return problems;
    }

    [Fact]
    public void Compile_WithReadProblems_ListsTheCompileProblemsToo()
    {
        var problems = ReadAndCompile("""
            {
              "url": "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds",
              "hedaers": "X-Team: a",
              "headers": "Content-Type: text/plain",
              "excludeAttributes": ["author..email"],
              "batching": { "enabled": true, "batchSize": 0, "algorithm": "code", "code": "function batch(records) { return {; }" }
            }
            """);

        Assert.Equal(["hedaers", "batching.batchSize", "headers", "batching.code", "excludeAttributes[0]"], problems.Select(p => p.Key));
        Assert.Contains("did you mean \"headers\"", problems[0].Message);
        Assert.Contains("Content-Type is managed by Kiteflow", problems[2].Message);
        Assert.Contains("The script cannot run", problems[3].Message);
    }

    [Fact]
    public void Compile_KeyTheReaderRefused_IsNotReportedAgain()
    {
        var problems = ReadAndCompile("""{"url": 42, "method": "FETCH", "headers": "Authorization: Bearer x"}""");

        Assert.Equal(["method", "url", "headers"], problems.Select(p => p.Key));
        Assert.Contains("Expected a string", problems[1].Message);
    }

    [Theory]
    [InlineData("{\"url\": ")]
    [InlineData("[1, 2]")]
    public void Compile_FileThatIsNotAnObject_OnlyTheFileProblem(string json)
    {
        var problems = ReadAndCompile(json);

        Assert.Equal([SettingsProblem.FileKey], problems.Select(p => p.Key));
    }

    [Fact]
    public void Compile_NoReadProblems_CompilesAsBefore()
    {
        var (settings, readProblems) = DestinationSettingsReader.Read("""{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds"}""", "test");

        var (destination, problems) = Destination.Compile(settings, readProblems);

        Assert.Empty(problems);
        Assert.Equal("builds.create", destination!.Endpoint!.Id);
    }
}
