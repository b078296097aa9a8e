using System.Text;
using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Records.ReaderTestHelpers;

namespace Kiteflow.Core.Tests.Records;

public sealed class JsonLinesReaderTests
{
    [Fact]
    public void Read_BlankLinesSkipped_PositionsCountOnlyNonBlankLines()
    {
        var items = ReadAll("{\"a\":1}\n\n   \n{\"a\":2}\r\n{\"a\":3}", InputFormat.JsonLines);

        Assert.Equal(["ok:0:1:{\"a\":1}", "ok:1:4:{\"a\":2}", "ok:2:5:{\"a\":3}"], items);
    }

    [Fact]
    public void Read_BadLines_EachRejectedWithLineAndReadingGoesOn()
    {
        var text = string.Join('\n',
            "{\"a\":1}",
            "{\"a\": tru}",
            "[1,2]",
            "\"text\"",
            "{\"a\":2}");

        var items = ReadAll(text, InputFormat.JsonLines);

        Assert.Equal(5, items.Count);
        Assert.StartsWith("ok:0:1:", items[0]);
        Assert.StartsWith("rej:1:2:Malformed JSON at column", items[1]);
        Assert.StartsWith("rej:2:3:The record is an array, not a JSON object", items[2]);
        Assert.StartsWith("rej:3:4:The record is a string, not a JSON object", items[3]);
        Assert.Equal("ok:4:5:{\"a\":2}", items[4]);
    }

    [Fact]
    public void Read_HalfASurrogatePair_RejectedNamingTheAttribute_OtherRecordsRead()
    {
        // JSON lets a string escape half of a surrogate pair; the text parses but is not text, and
        // reading the string threw out of the whole run.
        var text = string.Join('\n',
            "{\"msg\":\"\\ud800\"}",
            "{\"emoji\":\"\\ud83d\\ude00\",\"path\":\"C:\\\\ud800\"}",
            "{\"author\":{\"name\":\"a\\ude00\"},\"n\":1}",
            "{\"labels\":[\"ok\",\"\\ud83d\\u0041\"]}",
            "{\"a\":1,\"\\udbff\":2}",
            "{\"a\":2}");

        var items = ReadAll(text, InputFormat.JsonLines);

        Assert.Equal(6, items.Count);
        Assert.Equal("rej:0:1:The attribute \"msg\" holds \\ud800, half of a UTF-16 surrogate pair without its other half, which is not text; write the character itself, or both halves of the pair.", items[0]);
        Assert.StartsWith("ok:1:2:", items[1]);
        Assert.StartsWith("rej:2:3:The attribute \"author.name\" holds \\ude00, half of a UTF-16", items[2]);
        Assert.StartsWith("rej:3:4:The attribute \"labels[1]\" holds \\ud83d, half", items[3]);
        Assert.StartsWith("rej:4:5:The second attribute name at the top level holds \\udbff, half", items[4]);
        Assert.Equal("ok:5:6:{\"a\":2}", items[5]);
    }

    [Fact]
    public void Read_NestingDeeperThan64_Rejected()
    {
        var deep = new string('[', 65) + new string(']', 65);
        var ok = new string('[', 63) + new string(']', 63);
        var text = "{\"x\":" + deep + "}\n{\"x\":" + ok + "}";

        var items = ReadAll(text, InputFormat.JsonLines);

        Assert.StartsWith("rej:0:1:The record nests objects or arrays deeper than 64 levels", items[0]);
        Assert.StartsWith("ok:1:2:", items[1]);
    }

    [Fact]
    public void Read_RecordOverLimit_RejectedWithoutHoldingIt_NextRecordRead()
    {
        var limits = new ReaderLimits { MaxRecordBytes = 1000 };
        var big = "{\"x\":\"" + new string('a', 300_000) + "\"}";
        var text = "{\"a\":1}\n" + big + "\n{\"a\":2}\n" + big;

        var items = ReadAll(text, InputFormat.JsonLines, limits);

        Assert.Equal(4, items.Count);
        Assert.Equal("ok:0:1:{\"a\":1}", items[0]);
        Assert.StartsWith("rej:1:2:The record is larger than", items[1]);
        Assert.Equal("ok:2:3:{\"a\":2}", items[2]);
        Assert.StartsWith("rej:3:4:The record is larger than", items[3]);
    }

    [Fact]
    public void Read_InvalidUtf8_RejectsThatLineOnly()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.UTF8.GetBytes("{\"a\":\"ok\"}\n{\"a\":\""));
        bytes.AddRange([0xC3, 0x28]);
        bytes.AddRange(Encoding.UTF8.GetBytes("\"}\n{\"a\":\"caf\u00e9\"}\n"));

        var items = ReadAll(bytes.ToArray(), InputFormat.JsonLines);

        Assert.Equal(3, items.Count);
        Assert.StartsWith("rej:1:2:The record is not valid UTF-8 (byte 0xC3 at offset 6", items[1]);
        Assert.Equal("ok:2:3:{\"a\":\"caf\u00e9\"}", items[2]);
    }

    [Fact]
    public void Read_Utf8Bom_Skipped()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("{\"a\":1}\n")).ToArray();

        Assert.Equal(["ok:0:1:{\"a\":1}"], ReadAll(bytes, InputFormat.JsonLines));
    }

    [Fact]
    public void Read_LinesLongerThanTheBuffer_ReadWhole()
    {
        var value = new string('é', 100_000);
        var text = "{\"v\":\"" + value + "\"}\n{\"v\":\"short\"}";

        var items = ReadAll(text, InputFormat.JsonLines);

        Assert.Equal(2, items.Count);
        Assert.Equal("ok:0:1:{\"v\":\"" + value + "\"}", items[0]);
    }
}
