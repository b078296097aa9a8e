using System.Runtime.Versioning;
using System.Text;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Delivery.Tests.Credentials;

namespace Kiteflow.Delivery.Tests.Outputs;

/// <summary>The responses and rejected files on real files: whole lines, torn tails cut, owner-only modes.</summary>
public sealed class JsonLinesOutputTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-jsonl-").FullName;

    private string PathOf(string name) => Path.Combine(_directory, name);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Open_ToAppend_FileEndingInAHalfWrittenLine_CutsItOff_AndAppendsWholeLines()
    {
        var path = PathOf("responses.jsonl");
        const string torn = "{\"kind\":\"attempt\",\"request\":{\"meth";
        await File.WriteAllTextAsync(path, "{\"a\":1}\n{\"b\":2}\n" + torn);

        await using (var output = JsonLinesOutput.Open(path, append: true))
        {
            Assert.Equal(torn.Length, output.TornBytesRemoved);
            output.WriteLine("{\"c\":3}"u8);
        }

        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"], await File.ReadAllLinesAsync(path));
    }

    [Fact]
    public async Task Open_ToAppend_OnlyAHalfLineLongerThanTheReadBlock_IsCutToNothing()
    {
        var path = PathOf("responses.jsonl");
        var torn = "{\"body\":\"" + new string('x', 200_000);
        await File.WriteAllTextAsync(path, torn);

        await using (var output = JsonLinesOutput.Open(path, append: true))
        {
            Assert.Equal(torn.Length, output.TornBytesRemoved);
            output.WriteLine("{\"c\":3}"u8);
        }

        Assert.Equal("{\"c\":3}\n", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Open_ToAppend_WholeLines_RemovesNothing()
    {
        var path = PathOf("responses.jsonl");
        await File.WriteAllTextAsync(path, "{\"a\":1}\n");

        await using (var output = JsonLinesOutput.Open(path, append: true))
        {
            Assert.Equal(0, output.TornBytesRemoved);
            output.WriteLine("{\"b\":2}"u8);
        }

        Assert.Equal("{\"a\":1}\n{\"b\":2}\n", await File.ReadAllTextAsync(path));
    }

    /// <summary>
    /// Each line reaches the file whole, newline included, as soon as it is written (one write per line, no
    /// buffer): a process killed between two lines leaves whole lines behind.
    /// </summary>
    [Fact]
    public async Task WriteLine_IsInTheFileAtOnce_WithItsNewline_SmallOrLarge()
    {
        var path = PathOf("responses.jsonl");
        var large = "{\"body\":\"" + new string('y', 100_000) + "\"}";
        await using var output = JsonLinesOutput.Open(path, append: true);

        output.WriteLine("{\"small\":1}"u8);
        Assert.Equal("{\"small\":1}\n", ReadShared(path));

        output.WriteLine(Encoding.UTF8.GetBytes(large));
        Assert.Equal("{\"small\":1}\n" + large + "\n", ReadShared(path));

        output.Write(2, static (writer, n) =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("n", n);
            writer.WriteEndObject();
        });
        Assert.EndsWith("\n{\"n\":2}\n", ReadShared(path), StringComparison.Ordinal);
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public async Task Open_NewFile_IsReadableByItsOwnerOnly()
    {
        var appended = PathOf("responses.jsonl");
        var fresh = PathOf(Path.Combine("new-folder", "rejected.jsonl"));

        await JsonLinesOutput.Open(appended, append: true).DisposeAsync();
        await JsonLinesOutput.Open(fresh, append: false).DisposeAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(appended));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fresh));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(fresh)!));
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public async Task Open_ExistingFileOthersMayRead_IsNarrowedToItsOwner()
    {
        var path = PathOf("responses.jsonl");
        await File.WriteAllTextAsync(path, "{\"a\":1}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await JsonLinesOutput.Open(path, append: true).DisposeAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
