using System.Text;
using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Records.ReaderTestHelpers;

namespace Kiteflow.Core.Tests.Records;

public sealed class CsvRecordReaderTests
{
    [Fact]
    public void Read_DottedHeaders_BuildNestedObjects_TypesInferred()
    {
        var text = "name,author.name,author.email,count,ratio,flag,zip\nweb,Ann,ann@x.io,12,-0.50,true,01234\n";

        var items = ReadAll(text, InputFormat.Csv);

        Assert.Equal(["ok:0:2:{\"name\":\"web\",\"author\":{\"name\":\"Ann\",\"email\":\"ann@x.io\"},\"count\":12,\"ratio\":-0.50,\"flag\":true,\"zip\":\"01234\"}"], items);
    }

    [Fact]
    public void Read_EmptyCells_LeaveAttributesOut_EmptyObjectsOmitted()
    {
        var items = ReadAll("a,b.c,b.d\n,,\n1,,x\n", InputFormat.Csv);

        Assert.Equal(["ok:0:2:{}", "ok:1:3:{\"a\":1,\"b\":{\"d\":\"x\"}}"], items);
    }

    [Fact]
    public void Read_QuotedCells_HoldCommasQuotesAndNewlines_AndStayStrings()
    {
        var text = "msg,n\r\n\"a, \"\"quoted\"\"\nsecond line\",\"42\"\r\nplain,7\r\n";

        var items = ReadAll(text, InputFormat.Csv);

        Assert.Equal(["ok:0:2:{\"msg\":\"a, \\\"quoted\\\"\\nsecond line\",\"n\":\"42\"}", "ok:1:4:{\"msg\":\"plain\",\"n\":7}"], items);
    }

    [Fact]
    public void Read_WrongCellCount_RowRejected_OthersRead()
    {
        var items = ReadAll("a,b\n1,2\n1,2,3\n4\n5,6", InputFormat.Csv);

        Assert.Equal(4, items.Count);
        Assert.StartsWith("rej:1:3:The row has 3 cells but the header has 2", items[1]);
        Assert.StartsWith("rej:2:4:The row has 1 cells but the header has 2", items[2]);
        Assert.Equal("ok:3:5:{\"a\":5,\"b\":6}", items[3]);
    }

    [Fact]
    public void Read_InvalidUtf8Row_RejectedAlone()
    {
        var bytes = Encoding.UTF8.GetBytes("a\nok\n").Concat(new byte[] { 0xFF, 0x0A }).Concat(Encoding.UTF8.GetBytes("caf\u00e9\n")).ToArray();

        var items = ReadAll(bytes, InputFormat.Csv);

        Assert.Equal(3, items.Count);
        Assert.StartsWith("rej:1:3:The record is not valid UTF-8", items[1]);
        Assert.Equal("ok:2:4:{\"a\":\"caf\u00e9\"}", items[2]);
    }

    [Fact]
    public void Read_UnclosedQuote_ReportedAtEnd()
    {
        var items = ReadAll("a\n1\n\"never closed\n2\n", InputFormat.Csv);

        Assert.Equal(2, items.Count);
        Assert.StartsWith("rej:1:3:The file ends inside a quoted cell", items[1]);
    }

    [Fact]
    public void Read_TextAfterClosingQuote_RowRejected()
    {
        var items = ReadAll("a,b\n\"x\"y,1\n2,3\n", InputFormat.Csv);

        Assert.StartsWith("rej:0:2:A quoted cell has text after its closing quote", items[0]);
        Assert.Equal("ok:1:3:{\"a\":2,\"b\":3}", items[1]);
    }

    [Fact]
    public void Read_OversizedRow_SkippedNextRowRead()
    {
        var limits = new ReaderLimits { MaxRecordBytes = 1000 };
        var items = ReadAll("a\n" + new string('x', 200_000) + "\n1\n", InputFormat.Csv, limits);

        Assert.Equal(2, items.Count);
        Assert.StartsWith("rej:0:2:The row is larger than", items[0]);
        Assert.Equal("ok:1:3:{\"a\":1}", items[1]);
    }

    [Theory]
    [InlineData("a,a\n1,2\n")]
    [InlineData("a,a.b\n1,2\n")]
    [InlineData("a.b,a\n1,2\n")]
    [InlineData("a,,b\n1,2,3\n")]
    [InlineData("a..b\n1\n")]
    public void Read_BadHeader_InputExceptionNamesTheHeader(string text)
    {
        var e = Assert.Throws<InputException>(() => ReadAll(text, InputFormat.Csv));

        Assert.StartsWith("Line 1: header", e.Message);
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("-12", true)]
    [InlineData("3.25", true)]
    [InlineData("12345678901234567890123", true)]
    [InlineData("01", false)]
    [InlineData("1.", false)]
    [InlineData(".5", false)]
    [InlineData("1e5", false)]
    [InlineData("-", false)]
    [InlineData("+1", false)]
    public void IsPlainNumber_FollowsTheRule(string text, bool expected) =>
        Assert.Equal(expected, Kiteflow.Core.Records.CsvRecordReader.IsPlainNumber(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Read_BlankLines_Skipped_NoTrailingNewline()
    {
        var items = ReadAll("a\n\n1\n\n2", InputFormat.Csv);

        Assert.Equal(["ok:0:3:{\"a\":1}", "ok:1:5:{\"a\":2}"], items);
    }
}
