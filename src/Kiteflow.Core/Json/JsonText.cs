using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Kiteflow.Core.Json;

/// <summary>Small helpers for writing JSON values as text with <see cref="MinimalJsonEncoder"/>.</summary>
public static class JsonText
{
    /// <summary>The value as compact JSON, emoji and accents unescaped, numbers as they came in.</summary>
    public static string Compact(JsonElement value) => Encoding.UTF8.GetString(CompactUtf8(value));

    /// <summary>The value as compact UTF-8 JSON.</summary>
    public static byte[] CompactUtf8(JsonElement value) => Utf8(value.WriteTo, indented: false);

    /// <summary>What <paramref name="write"/> writes, as UTF-8 JSON: indented for reading, or compact.</summary>
    public static byte[] Utf8(Action<Utf8JsonWriter> write, bool indented)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, indented ? MinimalJsonEncoder.IndentedWriterOptions : MinimalJsonEncoder.CompactWriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Whether <paramref name="text"/> is one whole JSON value (an empty text is not).</summary>
    public static bool IsValid(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The value indented for reading.</summary>
    public static string Indented(JsonElement value) => Encoding.UTF8.GetString(Utf8(value.WriteTo, indented: true));
}
