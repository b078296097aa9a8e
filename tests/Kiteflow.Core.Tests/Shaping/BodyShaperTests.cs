using System.Buffers;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Shaping;

namespace Kiteflow.Core.Tests.Shaping;

public sealed class BodyShaperTests
{
    private static string Shape(string record, string[] exclude, bool inject, string? id = "kf-1") => Shape(record, exclude, inject, id, out _);

    private static string Shape(string record, string[] exclude, bool inject, string? id, out int idAt)
    {
        var problems = new List<SettingsProblem>();
        var shaper = BodyShaper.Compile(exclude, inject, problems)!;
        Assert.Empty(problems);
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write("prefix"u8);  // what is already in the buffer stays, and idAt counts from where shaping began
        Assert.True(shaper.TryWrite(buffer, Encoding.UTF8.GetBytes(record), id, 64, values: null, out idAt));
        Assert.Equal("prefix", Encoding.UTF8.GetString(buffer.WrittenSpan[..6]));
        return Encoding.UTF8.GetString(buffer.WrittenSpan[6..]);
    }

    /// <summary>The record parsed and written back with System.Text.Json and the minimal encoder: what shaping did before it streamed.</summary>
    private static string Rewritten(string record)
    {
        using var document = JsonDocument.Parse(record, new JsonDocumentOptions { MaxDepth = 64 });
        return JsonText.Compact(document.RootElement);
    }

    [Fact]
    public void Write_ExcludesTopLevelAndNestedPaths()
    {
        var shaped = Shape("""{"org":"acme","pipeline":"web","author":{"name":"Ann","email":"a@x.io","meta":{"x":1,"y":2}},"commit":"abc"}""", ["org", "record.pipeline", "author.email", "author.meta.y"], inject: false);

        Assert.Equal("""{"author":{"name":"Ann","meta":{"x":1}},"commit":"abc"}""", shaped);
    }

    [Fact]
    public void Write_ExcludingAPathUnderANonObject_LeavesIt()
    {
        Assert.Equal("""{"author":"Ann"}""", Shape("""{"author":"Ann"}""", ["author.email"], inject: false));
    }

    [Fact]
    public void Write_InjectsDeliveryIdIntoExistingMetaData_ReplacingAnyOld()
    {
        var shaped = Shape("""{"meta_data":{"ticket":"T-1","kiteflow_delivery_id":"old"},"branch":"main"}""", [], inject: true);

        Assert.Equal("""{"meta_data":{"ticket":"T-1","kiteflow_delivery_id":"kf-1"},"branch":"main"}""", shaped);
    }

    [Fact]
    public void Write_AddsMetaDataWhenMissingOrExcluded()
    {
        Assert.Equal("""{"branch":"main","meta_data":{"kiteflow_delivery_id":"kf-1"}}""", Shape("""{"branch":"main"}""", [], inject: true));
        Assert.Equal("""{"branch":"main","meta_data":{"kiteflow_delivery_id":"kf-1"}}""", Shape("""{"meta_data":{"a":1},"branch":"main"}""", ["meta_data"], inject: true));
    }

    [Fact]
    public void Write_KeepsNumbersAndUnicodeExactly()
    {
        var record = """{"big":123456789012345678901234567890,"dec":0.1000000000000000000000000000000000000001,"msg":"caf\u00e9 🚀 \"q\"\n"}""";

        Assert.Equal("{\"big\":123456789012345678901234567890,\"dec\":0.1000000000000000000000000000000000000001,\"msg\":\"café 🚀 \\\"q\\\"\\n\"}", Shape(record, ["x"], inject: false));
    }

    [Theory]
    [InlineData("{ \"a\" : 1 ,\r\n\t\"b\" : [ 1 , { \"c\" : null } , [ ] , { } ] , \"d\" : true , \"e\" : false }\n")]
    [InlineData("""{"caf\u00e9":"caf\u00e9","tab":"a\tb","slash":"a\/b","quote":"\"","bs":"\\","nul":"\u0000","ctl":"\u001f","emoji":"\ud83d\ude80","raw":"🚀 Zoë 夜间","del":"\u007f","ls":"\u2028"}""")]
    [InlineData("""{"n":[-0,1E+400,-1.5e-10,12345678901234567890123456789,0.10]}""")]
    [InlineData("""{"deep":{"a":{"b":{"c":[[[{"d":"e"}]]]}}},"empty":{},"list":[]}""")]
    [InlineData("{}")]
    public void TryWrite_NothingToChange_WritesWhatParsingAndRewritingWrites(string record)
    {
        Assert.Equal(Rewritten(record), Shape(record, [], inject: false));
    }

    [Fact]
    public void TryWrite_EscapedNamesMatchExclusionsAndMetaData()
    {
        // Names compare by their text, whatever the escapes: "\u006frg" is org, "meta\u005fdata" is meta_data.
        var shaped = Shape("""{"\u006frg":"acme","meta\u005fdata":{"kiteflow\u005fdelivery_id":"old","t":1},"b":"x"}""", ["org"], inject: true);

        Assert.Equal("""{"meta_data":{"t":1,"kiteflow_delivery_id":"kf-1"},"b":"x"}""", shaped);
    }

    [Fact]
    public void TryWrite_ExclusionsAndDeliveryIdTogether_NestedUnderMetaData()
    {
        var shaped = Shape("""{"org":"acme","meta_data":{"secret":{"k":1,"v":2},"keep":"y"},"env":{"A":"1","TOKEN":"t"}}""", ["org", "meta_data.secret.k", "env.TOKEN"], inject: true);

        Assert.Equal("""{"meta_data":{"secret":{"v":2},"keep":"y","kiteflow_delivery_id":"kf-1"},"env":{"A":"1"}}""", shaped);
    }

    [Fact]
    public void TryWrite_MetaDataThatIsNotAnObject_IsLeftAsItIs_AndGetsNoId()
    {
        Assert.Equal("""{"meta_data":"x","b":1}""", Shape("""{"meta_data":"x","b":1}""", [], inject: true, id: "kf-1", out var idAt));
        Assert.Equal(-1, idAt);
    }

    [Theory]
    [InlineData("""{"meta_data":{"a":1},"b":2}""")]
    [InlineData("""{"b":2}""")]
    public void TryWrite_EmptyDeliveryId_SplicedAtIdAt_GivesTheBodyWithTheId(string record)
    {
        var withId = Shape(record, [], inject: true, id: "run-42");
        var empty = Shape(record, [], inject: true, id: string.Empty, out var idAt);

        Assert.Equal(withId, empty.Insert(idAt, "run-42"));
    }

    [Fact]
    public void TryWrite_DeliveryIdWithCharactersToEscape_IsEscapedLikeAnyString()
    {
        Assert.Equal("{\"b\":1,\"meta_data\":{\"kiteflow_delivery_id\":\"a\\\"b-é\"}}", Shape("""{"b":1}""", [], inject: true, id: "a\"b-é"));
    }

    [Fact]
    public void TryWrite_LoneSurrogateEscape_AsWritingTheParsedRecord()
    {
        const string Record = """{"a":"\ud800"}""";

        Assert.Equal(Outcome(() => Rewritten(Record)), Outcome(() => Shape(Record, [], inject: false)));
    }

    /// <summary>What writing gives: the text, or the type of the exception.</summary>
    private static string Outcome(Func<string> write)
    {
        try
        {
            return write();
        }
        catch (Exception e)
        {
            return e.GetType().FullName!;
        }
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    public void TryWrite_NotAnObject_ReturnsFalse(string json)
    {
        var shaper = BodyShaper.Compile([], false, [])!;

        Assert.False(shaper.TryWrite(new ArrayBufferWriter<byte>(), Encoding.UTF8.GetBytes(json), null, 64, null, out _));
    }

    [Theory]
    [InlineData("""{"a":1""")]
    [InlineData("""{"a":1} x""")]
    [InlineData("""{"a":1,}""")]
    [InlineData("""{"a":"\x"}""")]
    [InlineData("""{"a":[[[[1]]]]}""")]  // deeper than the limit of 4 given below
    [InlineData("""{"org":"acme" "b":1}""")]  // a comma missing after an excluded attribute
    public void TryWrite_MalformedOrTooDeep_Throws(string json)
    {
        var shaper = BodyShaper.Compile(["org"], true, [])!;

        Assert.ThrowsAny<JsonException>(() => shaper.TryWrite(new ArrayBufferWriter<byte>(), Encoding.UTF8.GetBytes(json), "kf-1", 4, null, out _));
    }

    [Fact]
    public void TryWrite_MalformedInsideAnExcludedValue_Throws()
    {
        var shaper = BodyShaper.Compile(["skip"], false, [])!;

        Assert.ThrowsAny<JsonException>(() => shaper.TryWrite(new ArrayBufferWriter<byte>(), """{"skip":{"a":[1,}},"b":1}"""u8.ToArray(), null, 64, null, out _));
    }

    [Fact]
    public void Compile_BadPath_ProblemNamesIndex()
    {
        var problems = new List<SettingsProblem>();

        Assert.Null(BodyShaper.Compile(["ok", "a..b"], false, problems));
        Assert.Equal("excludeAttributes[1]", Assert.Single(problems).Key);
    }
}
