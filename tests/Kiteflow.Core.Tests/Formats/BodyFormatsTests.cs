using System.Text;
using Kiteflow.Core.Formats;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Tests.Formats;

public sealed class BodyFormatsTests
{
    private static string Convert(ContentFormat format, string json) => Encoding.UTF8.GetString(BodyFormats.Convert(format, Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Json_PassesThroughExactly()
    {
        const string json = """{"n":12345678901234567890,"d":3.14159265358979323846264338327950288419,"s":"🚀"}""";

        Assert.Equal(json, Convert(ContentFormat.Json, json));
    }

    [Fact]
    public void Ndjson_OneLinePerItem()
    {
        Assert.Equal("{\"a\":1}\n{\"a\":2}\n", Convert(ContentFormat.Ndjson, """[{"a":1}, {"a":2}]"""));
        Assert.Equal("{\"a\":\"é\"}\n", Convert(ContentFormat.Ndjson, """{"a":"é"}"""));
    }

    [Fact]
    public void Form_RailsBrackets()
    {
        var form = Convert(ContentFormat.Form, """{"branch":"main","author":{"name":"Ann Lee","email":"a@x.io"},"labels":["a","b&c"],"n":1.50,"flag":true,"none":null}""");

        Assert.Equal("branch=main&author[name]=Ann+Lee&author[email]=a%40x.io&labels[]=a&labels[]=b%26c&n=1.50&flag=true&none=", form);
    }

    [Fact]
    public void Form_ArrayOfObjects_AndTopLevelArray()
    {
        Assert.Equal("builds[][commit]=a&builds[][branch]=x&builds[][commit]=b", Convert(ContentFormat.Form, """{"builds":[{"commit":"a","branch":"x"},{"commit":"b"}]}"""));
        Assert.Equal("records[][a]=1&records[][a]=2", Convert(ContentFormat.Form, """[{"a":1},{"a":2}]"""));
    }

    [Fact]
    public void Xml_ElementsPerAttribute_ItemsForArrays()
    {
        var xml = Convert(ContentFormat.Xml, """{"branch":"main","author":{"name":"Ann <A>"},"labels":["x"],"2bad name":1}""");

        Assert.Equal("<?xml version=\"1.0\" encoding=\"utf-8\"?><record><branch>main</branch><author><name>Ann &lt;A&gt;</name></author><labels><item>x</item></labels><_x0032_bad_x0020_name>1</_x0032_bad_x0020_name></record>", xml);
    }

    [Fact]
    public void Xml_Array_RecordsRoot()
    {
        Assert.Equal("<?xml version=\"1.0\" encoding=\"utf-8\"?><records><record><a>1</a></record><record><a>2</a></record></records>", Convert(ContentFormat.Xml, """[{"a":1},{"a":2}]"""));
    }

    [Fact]
    public void Csv_DottedHeaderUnionAndQuoting()
    {
        var csv = Convert(ContentFormat.Csv, """[{"name":"a, b","author":{"email":"x@y"}},{"name":"say \"hi\"","tags":["t1","t2"]}]""");

        Assert.Equal("name,author.email,tags\r\n\"a, b\",x@y,\r\n\"say \"\"hi\"\"\",,\"[\"\"t1\"\",\"\"t2\"\"]\"\r\n", csv);
    }

    [Theory]
    [InlineData(ContentFormat.Json, "application/json")]
    [InlineData(ContentFormat.Ndjson, "application/x-ndjson")]
    [InlineData(ContentFormat.Xml, "application/xml")]
    [InlineData(ContentFormat.Form, "application/x-www-form-urlencoded")]
    [InlineData(ContentFormat.Csv, "text/csv")]
    public void ContentType_PerFormat(ContentFormat format, string expected) => Assert.Equal(expected, BodyFormats.ContentType(format));
}
