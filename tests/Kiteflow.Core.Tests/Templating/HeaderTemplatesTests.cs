using System.Text;
using System.Text.Json;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Templating;

namespace Kiteflow.Core.Tests.Templating;

public sealed class HeaderTemplatesTests
{
    private static List<KeyValuePair<string, string>> Resolve(string headers, string record, out string? error)
    {
        var problems = new List<SettingsProblem>();
        var compiled = HeaderTemplates.Compile(headers, problems);
        Assert.True(compiled is not null, string.Join("; ", problems));
        using var document = JsonDocument.Parse(record);
        var resolved = new List<KeyValuePair<string, string>>();
        error = compiled!.Resolve(document.RootElement, new TemplateClock(TimeProvider.System, "yyyy-MM-dd", DateUnit.Day), resolved, new StringBuilder());
        return resolved;
    }

    private static List<SettingsProblem> Problems(string headers)
    {
        var problems = new List<SettingsProblem>();
        Assert.Null(HeaderTemplates.Compile(headers, problems));
        return problems;
    }

    [Fact]
    public void Resolve_PairsQuotedCommasAndMacros()
    {
        var headers = Resolve("X-Team:platform, X-Note:\"a, b\",X-Trace:{id}, X-Quote:\"say \\\"hi\\\"\"", """{"id":77}""", out var error);

        Assert.Null(error);
        Assert.Equal(
            [new("X-Team", "platform"), new("X-Note", "a, b"), new("X-Trace", "77"), new("X-Quote", "say \"hi\"")],
            headers);
    }

    [Theory]
    [InlineData("Authorization:Bearer x", "managed by Kiteflow")]
    [InlineData("content-type:text/plain", "managed by Kiteflow")]
    [InlineData("Host:example.com", "set by HTTP itself")]
    [InlineData("X Team:platform", "not a valid header name")]
    [InlineData("novalue", "not a name:value pair")]
    [InlineData("X-A:\"unclosed", "not closed")]
    [InlineData("X-A:1\r\nX-B:2", "line break")]
    [InlineData("X-A:{a", "not closed")]
    public void Compile_BadHeaders_ProblemUnderHeadersKey(string headers, string expected)
    {
        var problems = Problems(headers);

        Assert.Contains(problems, p => p.Key == "headers" && p.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_EveryProblemReported()
    {
        Assert.Equal(2, Problems("Authorization:x,Bad Name:y,X-Ok:z").Count);
    }

    [Fact]
    public void Resolve_ValueWithLineBreak_RecordRejected()
    {
        Resolve("X-Trace:{id}", """{"id":"a\r\nX-Evil: 1"}""", out var error);

        Assert.StartsWith("header X-Trace: {id} has a character a header cannot carry", error);
    }
}
