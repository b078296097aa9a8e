using System.Buffers;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Shaping;

namespace Kiteflow.Core.Tests.Shaping;

public sealed class BodyShaperTests
{
    private static string Shape(string record, string[] exclude, bool inject, string? id = "kf-1")
    {
        var problems = new List<SettingsProblem>();
        var shaper = BodyShaper.Compile(exclude, inject, problems)!;
        Assert.Empty(problems);
        using var document = JsonDocument.Parse(record);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
        {
            shaper.Write(writer, document.RootElement, id);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
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

    [Fact]
    public void Compile_BadPath_ProblemNamesIndex()
    {
        var problems = new List<SettingsProblem>();

        Assert.Null(BodyShaper.Compile(["ok", "a..b"], false, problems));
        Assert.Equal("excludeAttributes[1]", Assert.Single(problems).Key);
    }
}
