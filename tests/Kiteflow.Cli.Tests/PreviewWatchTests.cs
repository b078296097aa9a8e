namespace Kiteflow.Cli.Tests;

public sealed class PreviewWatchTests : IDisposable
{
    private const string Url = "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds";

    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-watch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [UnixFact]
    public async Task PreviewWatch_Json_ShowsTheFileAgainOnEveryChange_ProblemsInstead_StopsOnCtrlC()
    {
        var destination = Write("destination.json", $$"""{"name":"first","url":"{{Url}}","excludeAttributes":["org","pipeline"]}""");
        var input = Write("input.jsonl", """
            {"org":"acme","pipeline":"web","commit":"1000000000000000000000000000000000000000","branch":"main","message":"one"}
            {"org":"acme","pipeline":"api","commit":"2000000000000000000000000000000000000000","branch":"main","message":"two"}
            """);
        using var watch = KiteflowProcess.Start(_directory, ["preview", "-d", destination, "-i", input, "--watch", "--json"], new Dictionary<string, string>());
        await watch.WaitUntilAsync(() => watch.Output.Contains("\"destination\":\"first\"", StringComparison.Ordinal), "the first preview");

        File.WriteAllText(destination, $$"""{"name":"second","url":"{{Url}}","excludeAttributes":["org","pipeline","message"]}""");
        await watch.WaitUntilAsync(() => watch.Output.Contains("\"destination\":\"second\"", StringComparison.Ordinal), "the preview of the changed file");

        File.WriteAllText(destination, $$$"""{"name":"third","url":"{{{Url}}}","method":"FETCH","batching":{"batchSize":0}}""");
        await watch.WaitUntilAsync(() => watch.Output.Contains("\"problems\"", StringComparison.Ordinal), "the settings problems");
        Assert.False(watch.HasExited);

        watch.Signal("INT");
        var (exitCode, output, error) = await watch.WaitAsync();

        Assert.True(exitCode == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var first = lines.First(l => l.Contains("\"destination\":\"first\"", StringComparison.Ordinal));
        var second = lines.First(l => l.Contains("\"destination\":\"second\"", StringComparison.Ordinal));
        var problems = lines.First(l => l.Contains("\"problems\"", StringComparison.Ordinal));
        Assert.Contains("\"message\":\"one\"", first);
        Assert.DoesNotContain("\"message\"", second);
        Assert.Contains("\"key\":\"method\"", problems);
        Assert.Contains("\"key\":\"batching.batchSize\"", problems);
        Assert.Contains("stopped watching", error);
    }

    [UnixFact]
    public async Task PreviewWatch_Text_ShowsProblemsThenTheFixedPreview()
    {
        var destination = Write("destination.json", $$"""{"url":"{{Url}}","method":"FETCH"}""");
        var input = Write("input.jsonl", """{"org":"acme","pipeline":"web","commit":"1000000000000000000000000000000000000000","branch":"main"}""");
        using var watch = KiteflowProcess.Start(_directory, ["preview", "-d", destination, "-i", input, "--watch"], new Dictionary<string, string>());
        await watch.WaitUntilAsync(() => watch.Output.Contains("is not valid", StringComparison.Ordinal), "the settings problems");

        File.WriteAllText(destination, $$"""{"url":"{{Url}}","excludeAttributes":["org","pipeline"]}""");
        await watch.WaitUntilAsync(() => watch.Output.Contains("Nothing was sent.", StringComparison.Ordinal), "the fixed preview");

        watch.Signal("TERM");
        var (exitCode, output, error) = await watch.WaitAsync();

        Assert.True(exitCode == 0, error);
        Assert.Contains("  - method: 'FETCH' is not a method Kiteflow sends", output);
        Assert.Contains("--- destination.json changed", output);
        Assert.Contains("POST https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds", output);
    }

    [Fact]
    public async Task PreviewWatch_StandardInput_ExitTwo()
    {
        var destination = Write("destination.json", $$"""{"url":"{{Url}}"}""");

        var (exitCode, _, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", "-", "--watch");

        Assert.Equal(2, exitCode);
        Assert.Contains("--watch", error);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
