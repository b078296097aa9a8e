using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Records.ReaderTestHelpers;

namespace Kiteflow.Core.Tests.Records;

public sealed class JsonArrayReaderTests
{
    [Fact]
    public void Read_Array_ItemsWithPositionsAndLines()
    {
        var text = "[\n  {\"a\": 1},\n  {\"b\": {\"c\": [1, 2]},\n   \"d\": \"x,}]\\\"y\"}\n]\n";

        var items = ReadAll(text, InputFormat.JsonArray);

        Assert.Equal(["ok:0:2:{\"a\": 1}", "ok:1:3:{\"b\": {\"c\": [1, 2]},\n   \"d\": \"x,}]\\\"y\"}"], items);
    }

    [Fact]
    public void Read_MalformedItem_RejectedAndNextItemsRead()
    {
        var text = "[{\"a\":1},\n{\"a\": tru},\n42,\n{\"a\":3}]";

        var items = ReadAll(text, InputFormat.JsonArray);

        Assert.Equal(4, items.Count);
        Assert.StartsWith("rej:1:2:Malformed JSON", items[1]);
        Assert.StartsWith("rej:2:3:The record is a number, not a JSON object", items[2]);
        Assert.Equal("ok:3:4:{\"a\":3}", items[3]);
    }

    [Fact]
    public void Read_ErrorOnALaterLineOfAMultiLineItem_ReportsThatLine()
    {
        var text = "[\n{\n\"a\": 1,\n\"b\": nope\n}\n]";

        var items = ReadAll(text, InputFormat.JsonArray);

        Assert.Single(items);
        Assert.StartsWith("rej:0:4:Malformed JSON", items[0]);
    }

    [Fact]
    public void Read_HalfASurrogatePairOnALaterLineOfAnItem_ReportsThatLineAndKeepsTheText()
    {
        var text = "[\n{\"a\": 1},\n{\n\"b\": 1,\n\"msg\": \"x\\udfff\"\n},\n{\"c\": 3}\n]";
        using var reader = RecordReader.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), InputFormat.JsonArray);

        var items = reader.ToList();

        Assert.Equal(3, items.Count);
        items[0].Record!.Dispose();
        items[2].Record!.Dispose();
        var rejection = items[1].Rejection!;
        Assert.Equal((1L, (long?)5L, RejectionStage.Read), (rejection.Record, rejection.Line, rejection.Stage));
        Assert.StartsWith("The attribute \"msg\" holds \\udfff", rejection.Message);
        Assert.Equal("{\n\"b\": 1,\n\"msg\": \"x\\udfff\"\n}", rejection.OriginalText);
    }

    [Theory]
    [InlineData("[{\"a\":1}")]
    [InlineData("[{\"a\":1},\n")]
    [InlineData("[\n{\"a\":1} ,  ")]
    public void Read_FileEndsBeforeTheArrayCloses_Reported(string text)
    {
        // A file cut right after an item (or its comma) read as a whole array: nothing said records were missing.
        var items = ReadAll(text, InputFormat.JsonArray);

        Assert.Equal(2, items.Count);
        Assert.StartsWith("ok:0:", items[0]);
        Assert.StartsWith("rej:1:", items[1]);
        Assert.Contains("The file ends before the array's closing ']': it may have been cut short", items[1]);
    }

    [Fact]
    public void Read_TruncatedFile_LastItemRejected()
    {
        var items = ReadAll("[{\"a\":1},{\"a\":", InputFormat.JsonArray);

        Assert.Equal(["ok:0:1:{\"a\":1}", "rej:1:1:Malformed JSON: the file ends inside this record."], items);
    }

    [Fact]
    public void Read_OversizedItem_SkippedAndReadingGoesOn()
    {
        var limits = new ReaderLimits { MaxRecordBytes = 2000 };
        var big = "{\"x\":[" + string.Join(",", Enumerable.Repeat("\"abcdefgh\"", 50_000)) + "]}";
        var text = "[" + big + ",{\"a\":2}]";

        var items = ReadAll(text, InputFormat.JsonArray, limits);

        Assert.Equal(2, items.Count);
        Assert.StartsWith("rej:0:1:The record is larger than", items[0]);
        Assert.Equal("ok:1:1:{\"a\":2}", items[1]);
    }

    [Fact]
    public void Read_NotAnArray_ThrowsInputExceptionNamingTheFix()
    {
        var e = Assert.Throws<InputException>(() => ReadAll("{\"a\":1}", InputFormat.JsonArray));

        Assert.Contains("not a JSON array", e.Message);
    }

    [Fact]
    public void Read_EmptyArrayAndEmptyFile_NoRecords()
    {
        Assert.Empty(ReadAll("[ ]", InputFormat.JsonArray));
        Assert.Empty(ReadAll("", InputFormat.JsonArray));
    }

    [Fact]
    public void Read_ContentAfterTheArray_Reported()
    {
        var items = ReadAll("[{\"a\":1}] trailing", InputFormat.JsonArray);

        Assert.Equal(2, items.Count);
        Assert.StartsWith("rej:1:1:Content after the closing ']'", items[1]);
    }

    [Fact]
    public void Open_JsonFileStartingWithAnObject_ReadAsJsonLines()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kf-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"a\":1}\n{\"a\":2}\n");
        try
        {
            using var reader = RecordReader.Open(path);
            var positions = reader.Select(r => { using var rec = r.Record!; return rec.Position; }).ToList();

            Assert.Equal([0L, 1L], positions);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
