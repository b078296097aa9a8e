using System.Text;
using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Records.ReaderTestHelpers;

namespace Kiteflow.Core.Tests.Records;

/// <summary>Read rejections keep the item's text, and a rejected-records file reads back as its records.</summary>
public sealed class RejectedRecordsReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-rejected-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<Rejection> Rejections(byte[] bytes, InputFormat format, ReaderLimits? limits = null)
    {
        using var reader = RecordReader.Create(new MemoryStream(bytes), format, limits);
        var rejections = new List<Rejection>();
        foreach (var item in reader)
        {
            item.Record?.Dispose();
            if (item.Rejection is { } rejection)
            {
                rejections.Add(rejection);
            }
        }

        return rejections;
    }

    [Fact]
    public void JsonLines_ReadRejections_KeepTheLinesText()
    {
        var deep = "{\"x\":" + new string('[', 65) + new string(']', 65) + "}";
        var text = string.Join('\n', "{\"a\": tru}", "[1,2]", "\"text\"", deep, "{\"ok\":1}");

        var rejections = Rejections(Encoding.UTF8.GetBytes(text), InputFormat.JsonLines);

        Assert.Equal(["{\"a\": tru}", "[1,2]", "\"text\"", deep], rejections.Select(r => r.OriginalText));
    }

    [Fact]
    public void JsonLines_InvalidUtf8_KeepsTheTextWithReplacementCharacters()
    {
        byte[] bytes = [.. "{\"a\":\"caf"u8, 0xE9, .. "\"}"u8];

        var rejection = Assert.Single(Rejections(bytes, InputFormat.JsonLines));

        Assert.Equal("{\"a\":\"caf\uFFFD\"}", rejection.OriginalText);
    }

    [Fact]
    public void JsonLines_OversizedRecord_KeepsNoText()
    {
        var text = "{\"x\":\"" + new string('a', 5000) + "\"}\n{\"a\":1}";

        var rejection = Assert.Single(Rejections(Encoding.UTF8.GetBytes(text), InputFormat.JsonLines, new ReaderLimits { MaxRecordBytes = 1000 }));

        Assert.Null(rejection.OriginalText);
    }

    [Fact]
    public void Csv_RefusedRows_KeepTheRowsText()
    {
        var text = "org,pipeline\r\nacme,web\r\nacme,web,extra\r\n\"acme\"x,web\r\n";

        var rejections = Rejections(Encoding.UTF8.GetBytes(text), InputFormat.Csv);

        Assert.Equal(["acme,web,extra", "\"acme\"x,web"], rejections.Select(r => r.OriginalText));
    }

    [Fact]
    public void JsonArray_FileEndsInsideARecord_KeepsWhatWasThere()
    {
        var rejection = Assert.Single(Rejections(Encoding.UTF8.GetBytes("[{\"a\":1}, {\"b\": [1, 2"), InputFormat.JsonArray));

        Assert.Equal("{\"b\": [1, 2", rejection.OriginalText);
    }

    [Fact]
    public void Rejected_DataIsTheRecord_TextIsReadAgain_PositionsAreTheFilesOwn()
    {
        var text = string.Join('\n',
            """{"record":4,"line":5,"data":{"branch":"main","n":1},"error":{"stage":"validate","message":"no commit"}}""",
            "",
            """{"record":7,"line":9,"data":"{\"branch\":\"dev\"}","error":{"stage":"read","message":"Malformed JSON"}}""",
            """{"record":8,"line":10,"data":"{\"still\": broken","error":{"stage":"read","message":"Malformed JSON"}}""");

        var items = ReadAll(text, InputFormat.Rejected);

        Assert.Equal(3, items.Count);
        Assert.Equal("ok:0:1:{\"branch\":\"main\",\"n\":1}", items[0]);
        Assert.Equal("ok:1:3:{\"branch\":\"dev\"}", items[1]);
        Assert.StartsWith("rej:2:4:Malformed JSON", items[2]);
    }

    [Fact]
    public void Rejected_RecordStillBroken_KeepsItsTextForTheNextRound()
    {
        var text = """{"record":8,"line":10,"data":"{\"still\": broken","error":{"stage":"read","message":"Malformed JSON"}}""";

        var rejection = Assert.Single(Rejections(Encoding.UTF8.GetBytes(text), InputFormat.Rejected));

        Assert.Equal("{\"still\": broken", rejection.OriginalText);
    }

    [Fact]
    public void Rejected_NoDataKept_RejectedSayingWhereTheRecordIs()
    {
        var text = """{"record":3,"line":12,"data":null,"error":{"stage":"read","message":"The record is larger than 10 MiB"}}""";

        var items = ReadAll(text, InputFormat.Rejected);

        var item = Assert.Single(items);
        Assert.StartsWith("rej:0:1:No text was kept for this record; take it from the original input (line 12 of the original input)", item);
        Assert.Contains("larger than 10 MiB", item);
    }

    [Fact]
    public void Rejected_LineThatIsNotARejectedRecord_Rejected()
    {
        var items = ReadAll("{\"branch\":\"main\"}\n{broken", InputFormat.Rejected);

        Assert.Equal(2, items.Count);
        Assert.StartsWith("rej:0:1:The line has no \"data\"", items[0]);
        Assert.StartsWith("rej:1:2:Malformed JSON", items[1]);
        Assert.Contains("a line of a rejected-records file", items[1]);
    }

    [Fact]
    public void Rejected_RecordAtTheDepthLimit_WithADeepResponseBeside_IsRead()
    {
        var record = string.Concat(Enumerable.Repeat("{\"a\":", 63)) + "1" + new string('}', 63);
        var response = string.Concat(Enumerable.Repeat("[", 64)) + new string(']', 64);
        var text = "{\"record\":0,\"line\":1,\"data\":{\"x\":" + record + "},\"error\":{\"stage\":\"http\",\"message\":\"refused\",\"response\":" + response + "}}";

        var items = ReadAll(text, InputFormat.Rejected);

        Assert.StartsWith("ok:0:1:{\"x\":", Assert.Single(items));
    }

    [Fact]
    public void ParseFormatName_Rejected()
    {
        Assert.Equal(InputFormat.Rejected, RecordReader.ParseFormatName("rejected"));
    }

    [Fact]
    public void Open_JsonLinesThatLookLikeARejectedFile_RefusedSayingWhichFormatToName()
    {
        var path = Path.Combine(_directory, "rejected.jsonl");
        File.WriteAllText(path, """{"record":0,"line":1,"data":"{bad","error":{"stage":"read","message":"Malformed JSON"}}""" + "\n");

        var e = Assert.Throws<InputException>(() => RecordReader.Open(path));

        Assert.Contains("--format rejected", e.Message);
        Assert.Contains("--format jsonl", e.Message);
        using var asLines = RecordReader.Open(path, InputFormat.JsonLines);
        using var asRejected = RecordReader.Open(path, InputFormat.Rejected);
    }

    [Fact]
    public void Open_OrdinaryJsonLinesWithARecordKey_ReadAsJsonLines()
    {
        var path = Path.Combine(_directory, "input.jsonl");
        File.WriteAllText(path, """{"record":0,"name":"x"}""" + "\n");

        using var reader = RecordReader.Open(path);

        Assert.Single(reader, item => item.Record is not null);
    }
}
