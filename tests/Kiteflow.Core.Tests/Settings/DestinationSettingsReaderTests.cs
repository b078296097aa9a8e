using Kiteflow.Core.Planning;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Tests.Settings;

public sealed class DestinationSettingsReaderTests
{
    [Fact]
    public void Read_Defaults()
    {
        var (settings, problems) = DestinationSettingsReader.Read("""{"url":"https://api.buildkite.com/v2/x"}""", "mine");

        Assert.Empty(problems);
        Assert.Equal("mine", settings.Name);
        Assert.Equal("POST", settings.Method);
        Assert.Equal(ContentFormat.Json, settings.ContentFormat);
        Assert.False(settings.Batching.Enabled);
        Assert.Equal(100, settings.Batching.BatchSize);
        Assert.Equal(5 * 1024 * 1024, settings.Batching.MaxBatchBytes);
        Assert.Equal(4, settings.Delivery.Concurrency);
        Assert.True(settings.Delivery.Pacing);
        Assert.Null(settings.Delivery.PlanningThreads);
        Assert.Equal("yyyy-MM-dd", settings.DateFormat);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("64", 64)]
    public void Read_PlanningThreads(string value, int expected)
    {
        var (settings, problems) = DestinationSettingsReader.Read($$$"""{"url":"https://api.buildkite.com/v2/x","delivery":{"planningThreads":{{{value}}}}}""");

        Assert.Empty(problems);
        Assert.Equal(expected, settings.Delivery.PlanningThreads);
    }

    [Theory]
    [InlineData("0", "0 is out of range; use a whole number from 1 to 64")]
    [InlineData("65", "65 is out of range; use a whole number from 1 to 64")]
    [InlineData("2.5", "a whole number")]
    [InlineData("\"4\"", "a whole number")]
    public void Read_PlanningThreadsOutOfRangeOrNotANumber_IsAProblemUnderItsKey(string value, string message)
    {
        var (_, problems) = DestinationSettingsReader.Read($$$"""{"url":"https://api.buildkite.com/v2/x","delivery":{"planningThreads":{{{value}}}}}""");

        var problem = Assert.Single(problems);
        Assert.Equal("delivery.planningThreads", problem.Key);
        Assert.Contains(message, problem.Message);
    }

    [Fact]
    public void Read_RequestsPerMinute_AreCapsTheUserChooses_NoneByDefault()
    {
        var (defaults, _) = DestinationSettingsReader.Read("""{"url":"https://api.buildkite.com/v2/x"}""");
        var (capped, problems) = DestinationSettingsReader.Read("""{"url":"https://api.buildkite.com/v2/x","delivery":{"organizationRequestsPerMinute":120,"userRequestsPerMinute":30}}""");

        Assert.Empty(problems);
        Assert.Equal((null, null), (defaults.Delivery.OrganizationRequestsPerMinute, defaults.Delivery.UserRequestsPerMinute));
        Assert.Equal((120, 30), (capped.Delivery.OrganizationRequestsPerMinute, capped.Delivery.UserRequestsPerMinute));
    }

    [Fact]
    public void Read_EveryProblemAtOnce_EachNamingItsKey()
    {
        var json = """
        {
          // comments are allowed
          "mehtod": "POST",
          "method": "GET",
          "contentFormat": "yaml",
          "excludeAttributes": "org",
          "dateFormat": "%",
          "batching": { "enabled": true, "batchSize": 0, "algorithm": "property", "maxBatchBytes": "big" },
          "delivery": { "concurrency": 1000, "retries": 3 },
        }
        """;

        var (_, problems) = DestinationSettingsReader.Read(json);
        var keys = problems.Select(p => p.Key).ToList();

        Assert.Equal(
            ["mehtod", "method", "contentFormat", "url", "excludeAttributes", "dateFormat", "batching.batchSize", "batching.maxBatchBytes", "batching.propertyName", "delivery.retries", "delivery.concurrency"],
            keys);
        Assert.Contains("did you mean \"method\"", problems[0].Message);
        Assert.Contains("'GET' is not a method Kiteflow sends", problems[1].Message);
        Assert.Contains("0 is out of range; use a whole number from 1 to 10,000", problems[6].Message);
        Assert.Contains("found \"big\"", problems[7].Message);
    }

    [Fact]
    public void Read_PropertyNameClashingWithOtherProps_IsAProblem()
    {
        var (_, problems) = DestinationSettingsReader.Read("""
            {"url":"https://api.buildkite.com/v2/x","batching":{"enabled":true,"algorithm":"property","propertyName":"builds","otherProps":{"builds":1}}}
            """);

        var problem = Assert.Single(problems);
        Assert.Equal("batching.otherProps", problem.Key);
    }

    [Fact]
    public void Read_CommentsAndTrailingCommasInOtherProps_ReadAsTheirValue()
    {
        // The file allows comments everywhere; otherProps was kept as raw text (comments included) and
        // parsed again without allowing them, which threw.
        var (settings, problems) = DestinationSettingsReader.Read("""
            {"url":"https://api.buildkite.com/v2/x",
             "batching":{"enabled":true,"algorithm":"property","propertyName":"builds",
               "otherProps":{ /* shared */ "source":"kiteflow", // who sent it
                              "n": 1.50, }}}
            """);

        Assert.Empty(problems);
        Assert.Equal("""{"source":"kiteflow","n":1.50}""", settings.Batching.OtherProps);
    }

    [Fact]
    public void Read_HalfASurrogatePair_IsAProblemNamingEachPlace()
    {
        var (_, problems) = DestinationSettingsReader.Read("""
            {"url":"https://api.buildkite.com/v2/x\ud800", "name":"ok \ud83d\ude00",
             "batching":{"enabled":true,"algorithm":"property","propertyName":"b","otherProps":{"\udc00":1}}}
            """);

        Assert.Collection(
            problems,
            p => Assert.Equal((SettingsProblem.FileKey, true), (p.Key, p.Message.StartsWith("The value of \"url\" holds a \\u escape that is half of a UTF-16 surrogate pair", StringComparison.Ordinal))),
            p => Assert.Equal((SettingsProblem.FileKey, true), (p.Key, p.Message.StartsWith("Key number 1 of \"batching.otherProps\" holds", StringComparison.Ordinal))));
    }

    [Fact]
    public void Read_ABuildkiteTokenTypedIntoTheSettings_IsAProblemAtEachSetting_NeverRepeatingIt()
    {
        const string token = "bkua_0123456789abcdef0123456789abcdef01234567";
        var (settings, problems) = DestinationSettingsReader.Read($$$"""
            {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds?access_token={{{token}}}",
             "headers":"X-Team:platform,X-Token:{{{token}}}",
             "batching":{"enabled":true,"algorithm":"property","propertyName":"b","otherProps":{"auth":{"t":["{{{token.ToUpperInvariant()}}}"] } } },
             "bodyTemplate":{"note":"Bkct_{{{token[5..]}}}"}}
            """);

        Assert.Equal(["url", "headers", "batching.otherProps", "bodyTemplate"], problems.Select(p => p.Key));
        Assert.All(problems, p => Assert.Contains("looks like a Buildkite token", p.Message, StringComparison.Ordinal));
        Assert.All(problems, p => Assert.DoesNotContain(token[5..15], p.Message, StringComparison.OrdinalIgnoreCase));

        // Nothing else is judged: compiling lists only these, none quoting the value.
        var (destination, all) = Destination.Compile(settings, problems);
        Assert.Null(destination);
        Assert.Equal(problems, all);
    }

    [Theory]
    [InlineData("X-Trace:abkua_x")]
    [InlineData("X-Team:bkuaplatform")]
    [InlineData("X-Commit:{commit}")]
    public void Read_TextThatOnlyResemblesATokenPrefix_IsNoProblem(string headers)
    {
        var (_, problems) = DestinationSettingsReader.Read($$"""{"url":"https://api.buildkite.com/v2/x","headers":"{{headers}}"}""");

        Assert.Empty(problems);
    }

    [Fact]
    public void Read_AKeyGivenTwice_IsAProblemNamingIt_AndNothingElseIsJudged()
    {
        var (settings, problems) = DestinationSettingsReader.Read("""
            {"url":"https://api.buildkite.com/v2/a", "method":"FETCH", "url":"https://api.buildkite.com/v2/b",
             "batching":{"enabled":true,"otherProps":{"x":1,"x":2,"x":3}}}
            """);

        Assert.Equal(["url", "batching.otherProps.x"], problems.Select(p => p.Key));
        Assert.Contains("given more than once", problems[0].Message, StringComparison.Ordinal);
        Assert.Equal(problems, Destination.Compile(settings, problems).Problems);
    }

    [Fact]
    public void Read_CodeAlgorithmWithoutCode_IsAProblem()
    {
        var (_, problems) = DestinationSettingsReader.Read("""{"url":"https://api.buildkite.com/v2/x","batching":{"enabled":true,"algorithm":"code"}}""");

        Assert.Equal("batching.code", Assert.Single(problems).Key);
    }

    [Fact]
    public void Read_NotJson_SaysWhere()
    {
        var (_, problems) = DestinationSettingsReader.Read("{\n\"url\": }");

        Assert.Contains("line 2", Assert.Single(problems).Message);
    }

    [Theory]
    [InlineData("""{"body": "Deployed {commit}", "n": 1.50}""")]
    [InlineData("\"{response.body}\"")]
    [InlineData("[1, \"{a}\"]")]
    public void Read_BodyTemplate_KeptAsItsJsonText(string template)
    {
        var (settings, problems) = DestinationSettingsReader.Read($$"""{"url":"https://api.buildkite.com/v2/x","bodyTemplate":{{template}}}""");

        Assert.Empty(problems);
        Assert.Equal(template, settings.BodyTemplate);
    }

    [Fact]
    public void Read_BodyTemplateNullOrMisspelt()
    {
        var (none, noProblems) = DestinationSettingsReader.Read("""{"url":"https://api.buildkite.com/v2/x","bodyTemplate":null}""");
        var (_, problems) = DestinationSettingsReader.Read("""{"url":"https://api.buildkite.com/v2/x","bodyTemplte":{}}""");

        Assert.Empty(noProblems);
        Assert.Null(none.BodyTemplate);
        Assert.Contains(problems, p => p.Key == "bodyTemplte" && p.Message.Contains("did you mean \"bodyTemplate\"?", StringComparison.Ordinal));
    }
}
