using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kiteflow.Core.Json;

/// <summary>
/// Escapes only what JSON requires (quote, backslash, control characters), so text such as
/// "café 🚀" goes out as written. The built-in encoders cannot do this: even
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> escapes characters outside the Basic
/// Multilingual Plane (every emoji) as surrogate pairs. Input is validated UTF-8 before it gets here.
/// </summary>
public sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    private static readonly SearchValues<byte> MustEscapeUtf8 = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, (byte)'"', (byte)'\\']);

    private MinimalJsonEncoder()
    {
    }

    /// <summary>The one instance.</summary>
    public static MinimalJsonEncoder Instance { get; } = new();

    /// <summary>Writer options that use this encoder, compact, with the input's nesting limit.</summary>
    public static JsonWriterOptions CompactWriterOptions { get; } = new() { Encoder = Instance, Indented = false, SkipValidation = true, MaxDepth = 128 };

    /// <summary>Writer options that use this encoder and indent for reading.</summary>
    public static JsonWriterOptions IndentedWriterOptions { get; } = new() { Encoder = Instance, Indented = true, MaxDepth = 128 };

    /// <inheritdoc />
    public override int MaxOutputCharactersPerInputCharacter => 6;

    /// <inheritdoc />
    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var span = new ReadOnlySpan<char>(text, textLength);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (c < 0x20 || c == '"' || c == '\\')
            {
                return i;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
                {
                    i++;
                    continue;
                }

                return i;
            }

            if (char.IsLowSurrogate(c))
            {
                return i;
            }
        }

        return -1;
    }

    /// <inheritdoc />
    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text) => utf8Text.IndexOfAny(MustEscapeUtf8);

    /// <inheritdoc />
    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var destination = new Span<char>(buffer, bufferLength);
        if (!WillEncode(unicodeScalar))
        {
            if (!new System.Text.Rune(unicodeScalar).TryEncodeToUtf16(destination, out numberOfCharactersWritten))
            {
                numberOfCharactersWritten = 0;
                return false;
            }

            return true;
        }

        string escaped = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\b' => "\\b",
            '\f' => "\\f",
            _ => $"\\u{unicodeScalar:X4}",
        };
        if (escaped.Length > destination.Length)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        escaped.CopyTo(destination);
        numberOfCharactersWritten = escaped.Length;
        return true;
    }

    /// <inheritdoc />
    public override bool WillEncode(int unicodeScalar) => unicodeScalar < 0x20 || unicodeScalar == '"' || unicodeScalar == '\\';
}
