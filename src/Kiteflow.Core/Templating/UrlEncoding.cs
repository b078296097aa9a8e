using System.Text;

namespace Kiteflow.Core.Templating;

/// <summary>Encodes a macro's value for where it stands in a URL (SPEC §2.3).</summary>
internal static class UrlEncoding
{
    private const string Hex = "0123456789ABCDEF";

    /// <summary>
    /// For a path segment: every character outside the unreserved set (RFC 3986: letters, digits,
    /// <c>-._~</c>) is percent-encoded as UTF-8, <c>/</c> included, so a value can never add a
    /// segment or climb out of one.
    /// </summary>
    public static void AppendPathSegmentValue(StringBuilder builder, string value) => Append(builder, value, spaceAsPlus: false);

    /// <summary>For the query: form encoding (space as <c>+</c>, everything else outside the unreserved set percent-encoded).</summary>
    public static void AppendQueryValue(StringBuilder builder, string value) => Append(builder, value, spaceAsPlus: true);

    private static void Append(StringBuilder builder, string value, bool spaceAsPlus)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')
            {
                builder.Append(c);
                continue;
            }

            if (c == ' ' && spaceAsPlus)
            {
                builder.Append('+');
                continue;
            }

            var rune = Rune.TryGetRuneAt(value, i, out var r) ? r : Rune.ReplacementChar;
            if (rune.Utf16SequenceLength == 2)
            {
                i++;
            }

            var length = rune.EncodeToUtf8(utf8);
            for (var b = 0; b < length; b++)
            {
                builder.Append('%').Append(Hex[utf8[b] >> 4]).Append(Hex[utf8[b] & 0xF]);
            }
        }
    }

    /// <summary>True for a segment that HTTP stacks would treat as a dot-segment ("." or "..").</summary>
    public static bool IsDotSegment(ReadOnlySpan<char> segment) => segment is "." or "..";
}
