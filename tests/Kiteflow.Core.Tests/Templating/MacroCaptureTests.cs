using System.Buffers;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Shaping;
using Kiteflow.Core.Templating;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Core.Tests.Templating;

public sealed class MacroCaptureTests
{
    private const string Template = "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline=fallback}/builds?author={author.email}&n={meta.n}";

    private static readonly TemplateClock Clock = new(new FakeTimeProvider(new DateTimeOffset(2026, 3, 31, 22, 30, 0, TimeSpan.Zero)), "yyyy-MM-dd", DateUnit.Day);

    /// <summary>The URL (or the problem) from the parsed record, and from the values captured while shaping it.</summary>
    private static ((string? Url, string? Error) FromDocument, (string? Url, string? Error) FromCapture) Resolve(string template, string recordJson, string[] exclude)
    {
        var problems = new List<SettingsProblem>();
        var url = UrlTemplate.Compile(template, null, problems)!;
        var shaper = BodyShaper.Compile(exclude, injectDeliveryId: true, problems)!;
        Assert.Empty(problems);

        using var record = JsonDocument.Parse(recordJson);
        var builder = new StringBuilder();
        var documentError = url.Resolve(record.RootElement, Clock, builder);
        var fromDocument = documentError is null ? (builder.ToString(), (string?)null) : (null, documentError);

        var values = new CapturedValues(MacroCapture.Compile(url.Macros));
        Assert.True(shaper.TryWrite(new ArrayBufferWriter<byte>(), Encoding.UTF8.GetBytes(recordJson), "kf-1", 64, values, out _));
        builder.Clear();
        var captureError = url.Resolve(values, Clock, builder, out var captured);
        return (fromDocument, captureError is null ? (captured, null) : (null, captureError));
    }

    [Theory]
    [InlineData("""{"org":"acme","pipeline":"web","author":{"email":"a@x.io"},"meta":{"n":12.50}}""")]
    [InlineData("""{"author":{"email":"a b/c"},"meta":{"n":true},"pipeline":null,"org":"Zoë 🚀"}""")]  // order, encoding, a default for null
    [InlineData("""{"org":"a","org":"b","author":{"email":"x"},"author":{"other":1},"meta":{"n":1}}""")]  // a repeated name: the last counts, as TryGetProperty finds it
    [InlineData("""{"org":"a","author":{"email":"x"},"author":5,"meta":{"n":false}}""")]  // the last author is no object: missing
    [InlineData("""{"org":{"id":1},"meta":{"n":1},"author":{"email":"x"}}""")]  // an object where one value is needed
    [InlineData("""{"org":[1],"meta":{"n":1},"author":{"email":"x"}}""")]  // an array
    [InlineData("""{"org":"acme","meta":{"n":1}}""")]  // missing
    [InlineData("""{"\u006frg":"\u0061cme","author":{"em\u0061il":"e\"q"},"meta":{"n":-0.0e5}}""")]  // escaped names and values
    [InlineData("""{"org":".","author":{"email":"x"},"meta":{"n":1}}""")]  // a value that would make a dot segment
    [InlineData("""{"org":"","author":{"email":"x"},"meta":{"n":1}}""")]  // an empty segment
    public void Resolve_FromCapturedValues_SameAsFromTheParsedRecord(string record)
    {
        var (fromDocument, fromCapture) = Resolve(Template, record, []);

        Assert.Equal(fromDocument, fromCapture);
    }

    [Fact]
    public void Resolve_ValuesOfExcludedAttributes_AreStillCaptured()
    {
        var (fromDocument, fromCapture) = Resolve(Template, """{"org":"acme","pipeline":"web","author":{"email":"a@x.io","name":"A"},"meta":{"n":3}}""", ["org", "pipeline", "author", "meta.n"]);

        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds?author=a%40x.io&n=3", fromCapture.Url);
        Assert.Equal(fromDocument, fromCapture);
    }

    [Fact]
    public void Resolve_APathAndItsParentBothCaptured()
    {
        var (fromDocument, fromCapture) = Resolve("https://api.buildkite.com/v2/x/{a}/{a.b}", """{"a":{"b":"c"}}""", []);

        Assert.Equal(fromDocument, fromCapture);
        Assert.Contains("is an object", fromCapture.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ValuesUnderMetaData_CapturedAsTheRecordHasThem()
    {
        // meta_data gets the delivery id when shaped; a macro still reads the record's own value.
        var (fromDocument, fromCapture) = Resolve("https://api.buildkite.com/v2/x/{meta_data.kiteflow_delivery_id}/{meta_data.t}", """{"meta_data":{"kiteflow_delivery_id":"mine","t":"v"}}""", []);

        Assert.Equal("https://api.buildkite.com/v2/x/mine/v", fromCapture.Url);
        Assert.Equal(fromDocument, fromCapture);
    }
}
