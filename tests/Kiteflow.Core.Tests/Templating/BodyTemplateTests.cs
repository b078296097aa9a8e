using System.Buffers;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Templating;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Core.Tests.Templating;

public sealed class BodyTemplateTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 3, 31, 22, 30, 0, TimeSpan.Zero));

    private const string Response = """
        {"destination":"trigger-builds","response":{"status":201,"body":{"number":42,"commit":"abc123","branch":"main",
         "blocked":false,"pull_request":null,"big":12345678901234567890123456789,"ratio":1.50,"tiny":1e-400,
         "pipeline":{"slug":"web","tags":["a","b"]},"env":{"TRAIN":"1000"}}},"records":[7]}
        """;

    private static (string? Body, string? Error) Fill(string template, string recordJson = Response)
    {
        var problems = new List<SettingsProblem>();
        var compiled = BodyTemplate.Compile(template, problems);
        Assert.True(compiled is not null, string.Join("; ", problems));
        using var record = JsonDocument.Parse(recordJson);
        var buffer = new ArrayBufferWriter<byte>();
        string? error;
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
        {
            error = compiled!.Write(writer, record.RootElement, new TemplateClock(Clock, "yyyy-MM-dd", DateUnit.Day), new ArrayBufferWriter<char>());
        }

        return error is null ? (Encoding.UTF8.GetString(buffer.WrittenSpan), null) : (null, error);
    }

    private static List<SettingsProblem> Problems(string template)
    {
        var problems = new List<SettingsProblem>();
        Assert.Null(BodyTemplate.Compile(template, problems));
        return problems;
    }

    [Fact]
    public void Write_StringThatIsOneMacro_KeepsTheAttributesJsonType()
    {
        var (body, _) = Fill("""
            {"n":"{response.body.number}","s":"{response.body.commit}","b":"{response.body.blocked}","nil":"{response.body.pull_request}",
             "o":"{response.body.pipeline}","a":"{response.body.pipeline.tags}","records":"{records}"}
            """);

        Assert.Equal("""{"n":42,"s":"abc123","b":false,"nil":null,"o":{"slug":"web","tags":["a","b"]},"a":["a","b"],"records":[7]}""", body);
    }

    [Fact]
    public void Write_Numbers_KeepTheirExactText_AloneAndInsideText()
    {
        var (body, _) = Fill("""{"big":"{response.body.big}","ratio":"{response.body.ratio}","tiny":"{response.body.tiny}","text":"{response.body.big} at {response.body.ratio}","constant":1.50}""");

        Assert.Equal("""{"big":12345678901234567890123456789,"ratio":1.50,"tiny":1e-400,"text":"12345678901234567890123456789 at 1.50","constant":1.50}""", body);
    }

    [Fact]
    public void Write_TextAndMacros_ValuesGoInAsText()
    {
        var (body, _) = Fill("""{"body":"Build #{response.body.number} of `{response.body.commit}` ({response.body.blocked}, {record.response.status})"}""");

        Assert.Equal("""{"body":"Build #42 of `abc123` (false, 201)"}""", body);
    }

    [Fact]
    public void Write_InsertedText_IsEscapedForJson_AndStaysUnicode()
    {
        const string record = """{"message":"He said \"ship it\" \\ then\nleft\ttab 🚀 café","control":"\u0001"}""";

        var (body, _) = Fill("""{"body":"msg: {message}{control}","alone":"{message}"}""", record);

        using var parsed = JsonDocument.Parse(body!);
        Assert.Equal("msg: He said \"ship it\" \\ then\nleft\ttab 🚀 café\u0001", parsed.RootElement.GetProperty("body").GetString());
        Assert.Equal("He said \"ship it\" \\ then\nleft\ttab 🚀 café", parsed.RootElement.GetProperty("alone").GetString());
        Assert.Contains("🚀 café", body);
        Assert.DoesNotContain("\\u00e9", body);
    }

    [Fact]
    public void Write_DoubledBraces_AreLiteralBraces()
    {
        var (body, _) = Fill("""{"body":"{{\"build\": {response.body.number}}} and {{{response.body.commit}}}","{{name}}":"x"}""");

        Assert.Equal("""{"body":"{\"build\": 42} and {abc123}","{name}":"x"}""", body);
    }

    [Fact]
    public void Write_NestedTemplateAndArrays_FillEveryLevel()
    {
        var (body, _) = Fill("""
            {"meta_data":{"build":"{response.body.number}","pipeline":"{response.body.pipeline.slug}","fixed":"yes"},
             "list":["{response.body.branch}",["deep {response.body.number}",2,true,null],{"k":"{response.body.env.TRAIN}"}],"static":{"a":[1,{"b":"c"}]}}
            """);

        Assert.Equal("""{"meta_data":{"build":42,"pipeline":"web","fixed":"yes"},"list":["main",["deep 42",2,true,null],{"k":"1000"}],"static":{"a":[1,{"b":"c"}]}}""", body);
    }

    [Theory]
    [InlineData("""{"n":"{response.body.missing}"}""")]
    [InlineData("""{"n":"see {response.body.missing}"}""")]
    [InlineData("""["{response.body.missing}"]""")]
    public void Write_MissingAttributeWithoutDefault_ReasonNamesTheMacro(string template)
    {
        var (_, error) = Fill(template);

        Assert.StartsWith("{response.body.missing}: the record has no attribute 'response.body.missing'", error);
        Assert.Contains("give a default", error);
    }

    [Fact]
    public void Write_Defaults_NumberBooleanNullKeepTheirType_OtherTextIsAString()
    {
        var (body, _) = Fill("""
            {"priority":"{prio=3}","append":"{append=true}","gone":"{gone=null}","style":"{style=info}","version":"{v=1.0}",
             "text":"p{prio=3} {style=info}","nullWithDefault":"{response.body.pull_request=none}","present":"{response.body.number=0}"}
            """);

        Assert.Equal("""{"priority":3,"append":true,"gone":null,"style":"info","version":1.0,"text":"p3 info","nullWithDefault":"none","present":42}""", body);
    }

    [Fact]
    public void Write_NullAttribute_InsideTextWithoutDefault_ReasonNamesTheMacro()
    {
        var (_, error) = Fill("""{"body":"pr {response.body.pull_request}"}""");

        Assert.StartsWith("{response.body.pull_request}: the attribute 'response.body.pull_request' is null", error);
    }

    [Fact]
    public void Write_ObjectOrArrayInsideText_ReasonNamesTheMacroAndTheFix()
    {
        var (_, error) = Fill("""{"body":"pipeline {response.body.pipeline}"}""");

        Assert.Equal("{response.body.pipeline}: the attribute 'response.body.pipeline' is an object, which cannot go inside text; make the string exactly \"{response.body.pipeline}\" to insert it as JSON.", error);
    }

    [Fact]
    public void Write_Now_AloneIsAStringAndInsideText()
    {
        var (body, _) = Fill("""{"on":"{now}","before":"{now-1}","text":"until {now+2}"}""");

        Assert.Equal("""{"on":"2026-03-31","before":"2026-03-30","text":"until 2026-04-02"}""", body);
    }

    [Fact]
    public void Write_WholeTemplateOneMacro_TheValueIsTheBody()
    {
        var (body, _) = Fill("\"{response.body.env}\"");

        Assert.Equal("""{"TRAIN":"1000"}""", body);
    }

    [Fact]
    public void Write_ValueThatWouldNestTooDeep_ReasonNamesTheMacro()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 60)) + "1" + new string('}', 60);
        var template = string.Concat(Enumerable.Repeat("{\"x\":", 10)) + "\"{deep}\"" + new string('}', 10);

        var (_, error) = Fill(template, "{\"deep\":" + deep + "}");
        var (shallow, _) = Fill(template, "{\"deep\":{\"a\":1}}");

        Assert.StartsWith("{deep}: the attribute 'deep' inserted here would nest the body deeper than 64 levels", error);
        Assert.NotNull(shallow);
    }

    [Fact]
    public void Compile_CommentsAndTrailingCommas_AreAllowed()
    {
        var (body, _) = Fill("""
            {
              // the annotation
              "body": "#{response.body.number}",
            }
            """);

        Assert.Equal("""{"body":"#42"}""", body);
    }

    [Fact]
    public void Compile_BadMacrosAndBraces_EachAProblemUnderItsKey()
    {
        var problems = Problems("""{"body":"Deployed {response.body.commit","list":["ok","{now+x}"],"meta":{"a":"}"},"{x}":1}""");

        Assert.Collection(
            problems,
            p => Assert.Equal(("bodyTemplate.body", true), (p.Key, p.Message.Contains("is not closed", StringComparison.Ordinal))),
            p => Assert.Equal(("bodyTemplate.list[1]", true), (p.Key, p.Message.Contains("{now+x}", StringComparison.Ordinal))),
            p => Assert.Equal(("bodyTemplate.meta.a", true), (p.Key, p.Message.Contains("write }} for a literal brace", StringComparison.Ordinal))),
            p => Assert.Equal(("bodyTemplate.{x}", true), (p.Key, p.Message.Contains("macros fill values", StringComparison.Ordinal))));
    }

    [Fact]
    public void Compile_StringHoldingJsonText_SaysWriteTheJsonItself()
    {
        var problem = Assert.Single(Problems("\"{\\\"body\\\": \\\"x\\\"}\""));

        Assert.Equal("bodyTemplate", problem.Key);
        Assert.Contains("without the surrounding quotes", problem.Message);
    }

    [Theory]
    [InlineData("""{"body":"half \ud800 a pair"}""")]
    [InlineData("""{"\udc00":"x"}""")]
    [InlineData("\"\\ud800\"")]
    public void Compile_HalfASurrogatePair_IsAProblemNotACrash(string template)
    {
        var problem = Assert.Single(Problems(template));

        Assert.Equal("bodyTemplate", problem.Key);
        Assert.Contains("half of a surrogate pair", problem.Message);
    }
}
