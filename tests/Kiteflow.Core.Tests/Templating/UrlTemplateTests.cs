using System.Text;
using System.Text.Json;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Templating;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Core.Tests.Templating;

public sealed class UrlTemplateTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 3, 31, 22, 30, 0, TimeSpan.Zero));

    private static (string? Url, string? Error) Resolve(string template, string recordJson, Uri? apiBase = null, string dateFormat = "yyyy-MM-dd", DateUnit unit = DateUnit.Day)
    {
        var problems = new List<SettingsProblem>();
        var compiled = UrlTemplate.Compile(template, apiBase, problems);
        Assert.True(compiled is not null, string.Join("; ", problems));
        using var record = JsonDocument.Parse(recordJson);
        var builder = new StringBuilder();
        var error = compiled!.Resolve(record.RootElement, new TemplateClock(Clock, dateFormat, unit), builder);
        return error is null ? (builder.ToString(), null) : (null, error);
    }

    private static List<SettingsProblem> CompileProblems(string template, Uri? apiBase = null)
    {
        var problems = new List<SettingsProblem>();
        Assert.Null(UrlTemplate.Compile(template, apiBase, problems));
        return problems;
    }

    [Fact]
    public void Resolve_DottedPathsRecordPrefixAndNumbers()
    {
        var (url, _) = Resolve("https://api.buildkite.com/v2/organizations/{org.slug}/pipelines/{record.pipeline}/builds/{number}", """{"org":{"slug":"acme"},"pipeline":"web","number":42}""");

        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/42", url);
    }

    [Theory]
    [InlineData("../admin", "..%2Fadmin")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("web?x=1#f", "web%3Fx%3D1%23f")]
    [InlineData("my pipe", "my%20pipe")]
    [InlineData("caf\u00e9-\ud83d\ude80", "caf%C3%A9-%F0%9F%9A%80")]
    [InlineData("a%2Fb", "a%252Fb")]
    [InlineData("v1.2_x~y", "v1.2_x~y")]
    public void Resolve_HostileSlug_StaysInsideItsSegment(string slug, string encoded)
    {
        var record = JsonSerializer.Serialize(new { org = "acme", pipeline = slug });

        var (url, _) = Resolve("https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds", record);

        Assert.Equal($"https://api.buildkite.com/v2/organizations/acme/pipelines/{encoded}/builds", url);
        var uri = new Uri(url!);
        Assert.Equal(7, uri.Segments.Length);  // "/", "v2/", "organizations/", "acme/", "pipelines/", slug, "builds"
        Assert.Equal("builds", uri.Segments[^1]);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public void Resolve_DotSegmentValue_RecordRejectedBecauseHttpWouldResolveIt(string slug)
    {
        var record = JsonSerializer.Serialize(new { org = "acme", pipeline = slug });

        var (url, error) = Resolve("https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds", record);

        Assert.Null(url);
        Assert.Contains($"makes the path segment '{slug}'", error);
    }

    [Fact]
    public void Resolve_DotSegmentBuiltFromTwoMacros_Rejected()
    {
        var (_, error) = Resolve("https://api.buildkite.com/v2/organizations/{a}{b}/pipelines", "{\"a\":\".\",\"b\":\".\"}");

        Assert.Contains("makes the path segment '..'", error);
    }

    [Fact]
    public void Resolve_QueryValues_FormEncoded()
    {
        var (url, _) = Resolve("https://api.buildkite.com/v2/builds?branch={branch}&state=passed", """{"branch":"feature/a b&c=d"}""");

        Assert.Equal("https://api.buildkite.com/v2/builds?branch=feature%2Fa+b%26c%3Dd&state=passed", url);
    }

    [Fact]
    public void Resolve_Defaults_UsedForMissingAndNull()
    {
        var (missing, _) = Resolve("https://api.buildkite.com/v2/organizations/{org=acme}/pipelines/{pipeline=web}/builds", """{"pipeline":null}""");

        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds", missing);
    }

    [Fact]
    public void Resolve_MissingAttributeWithoutDefault_ErrorNamesTheMacro()
    {
        var (_, error) = Resolve("https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds", """{"org":"acme"}""");

        Assert.StartsWith("{pipeline}: the record has no attribute 'pipeline'", error);
    }

    [Fact]
    public void Resolve_ObjectValue_Rejected()
    {
        var (_, error) = Resolve("https://api.buildkite.com/v2/organizations/{org}/pipelines", """{"org":{"slug":"acme"}}""");

        Assert.StartsWith("{org}: the attribute 'org' is an object", error);
    }

    [Fact]
    public void Resolve_EmptyWholeSegment_Rejected()
    {
        var (_, error) = Resolve("https://api.buildkite.com/v2/organizations/{org}/pipelines", """{"org":""}""");

        Assert.Contains("a path segment cannot be empty", error);
    }

    [Theory]
    [InlineData("{now}", "2026-03-31")]
    [InlineData("{now-1}", "2026-03-30")]
    [InlineData("{now+1}", "2026-04-01")]
    public void Resolve_NowMacros_UseTheClockInUtc(string macro, string expected)
    {
        var (url, _) = Resolve($"https://api.buildkite.com/v2/builds?created_from={macro}", "{}");

        Assert.Equal($"https://api.buildkite.com/v2/builds?created_from={expected}", url);
    }

    [Fact]
    public void Resolve_NowWithFormatAndUnit()
    {
        var (url, _) = Resolve("https://api.buildkite.com/v2/builds?from={now-3}", "{}", dateFormat: "yyyy-MM-ddTHH:mm:ssZ", unit: DateUnit.Hour);

        Assert.Equal("https://api.buildkite.com/v2/builds?from=2026-03-31T19%3A30%3A00Z", url);
    }

    [Fact]
    public void Compile_ApiBase_ReplacesBuildkiteOrigin()
    {
        var (url, _) = Resolve("https://api.buildkite.com/v2/organizations/{org}/pipelines", """{"org":"acme"}""", new Uri("http://127.0.0.1:43121"));

        Assert.Equal("http://127.0.0.1:43121/v2/organizations/acme/pipelines", url);
    }

    [Fact]
    public void Compile_OtherHost_RefusedBecauseTheTokenWouldGoThere()
    {
        var problems = CompileProblems("https://evil.example.com/v2/organizations/{org}/pipelines");

        Assert.Contains(problems, p => p.Key == "url" && p.Message.Contains("sends the token only to https://api.buildkite.com", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://{host}/v2/x")]
    [InlineData("https://api.buildkite.com{port}/v2/x")]
    public void Compile_MacroInHost_Refused(string template)
    {
        var problems = CompileProblems(template);

        Assert.Contains(problems, p => p.Message.Contains("host must be written out", StringComparison.Ordinal) || p.Message.Contains("not a valid scheme and host", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_PlainHttp_OnlyForLoopback()
    {
        Assert.Contains(CompileProblems("http://api.buildkite.com/v2/x"), p => p.Key == "url");
        Assert.Contains(CompileProblems("https://api.buildkite.com/v2/x", new Uri("http://10.0.0.5:8080")), p => p.Message.Contains("not https", StringComparison.Ordinal));
        Assert.Equal(("http://localhost:9/v2/x", null), Resolve("https://api.buildkite.com/v2/x", "{}", new Uri("http://localhost:9")));
    }

    [Theory]
    [InlineData("https://api.buildkite.com/v2/{org", "not closed")]
    [InlineData("https://api.buildkite.com/v2/org}", "no matching")]
    [InlineData("https://api.buildkite.com/v2/{}", "name an attribute")]
    [InlineData("https://api.buildkite.com/v2/{a..b}", "name an attribute")]
    [InlineData("https://api.buildkite.com/v2/{now+x}", "whole number")]
    [InlineData("https://api.buildkite.com/v2/x#frag", "fragment")]
    [InlineData("api.buildkite.com/v2/x", "must start with https://")]
    [InlineData("https://api.buildkite.com/v2/../x", "'.' or '..'")]
    public void Compile_BadTemplate_ProblemSaysWhat(string template, string expected)
    {
        var problems = CompileProblems(template);

        Assert.Contains(problems, p => p.Key == "url" && p.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_ApiSegments_MacrosAreNull()
    {
        var compiled = UrlTemplate.Compile("https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds", null, []);

        Assert.Equal(["organizations", null, "pipelines", null, "builds"], compiled!.ApiSegments!);
    }
}
