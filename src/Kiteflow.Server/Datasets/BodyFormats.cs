using System.Text.Json;
using Kiteflow.Core.Records;

namespace Kiteflow.Server.Datasets;

/// <summary>Which reader a request body needs, from <c>?format=</c>, its Content-Type and its first bytes.</summary>
internal static class BodyFormats
{
    /// <summary>The format, or null with the problem when it cannot be told.</summary>
    public static (InputFormat? Format, string? Problem) Declared(string? format, string? contentType)
    {
        if (!string.IsNullOrEmpty(format))
        {
            return format.ToLowerInvariant() switch
            {
                "json" => (InputFormat.JsonArray, null),
                "jsonl" or "ndjson" => (InputFormat.JsonLines, null),
                "csv" => (InputFormat.Csv, null),
                _ => (null, $"'{format}' is not a format Kiteflow reads; use json, jsonl or csv."),
            };
        }

        var mediaType = (contentType ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();
        return mediaType switch
        {
            // curl's --data-binary says form-urlencoded unless told otherwise: read such a body as JSON, by its first byte.
            "" or "application/json" or "text/json" or "application/x-www-form-urlencoded" or "application/octet-stream" => (InputFormat.JsonArray, null),
            "application/x-ndjson" or "application/ndjson" or "application/jsonl" or "application/x-jsonlines" or "application/json-lines" or "text/plain" => (InputFormat.JsonLines, null),
            "text/csv" or "application/csv" => (InputFormat.Csv, null),
            _ => (null, $"The Content-Type '{mediaType}' is not one Kiteflow reads; send application/json, application/x-ndjson or text/csv, or name the format with ?format=json|jsonl|csv."),
        };
    }

    /// <summary>
    /// A JSON body is an array when it starts with '['; otherwise JSON Lines (one object is a one-line JSON Lines
    /// body), unless it is one object spread over several lines, which must be wrapped in [ ] and read as an array.
    /// </summary>
    public static (InputFormat Format, bool WrapInArray) Refine(InputFormat declared, ReadOnlySpan<byte> head, bool headIsWhole)
    {
        if (declared != InputFormat.JsonArray)
        {
            return (declared, false);
        }

        if (head.StartsWith("\uFEFF"u8))
        {
            head = head[3..];
        }

        var first = head.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0 || head[first] == (byte)'[')
        {
            return (InputFormat.JsonArray, false);
        }

        return headIsWhole && IsOneMultiLineObject(head[first..]) ? (InputFormat.JsonArray, true) : (InputFormat.JsonLines, false);
    }

    /// <summary>Whether the body is exactly one JSON value spanning several lines (then it needs wrapping to be read as one record).</summary>
    public static bool IsOneMultiLineObject(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject || !reader.TrySkip())
            {
                return false;
            }

            var end = (int)reader.BytesConsumed;
            return body[end..].IndexOfAnyExcept(" \t\r\n"u8) < 0 && body[..end].IndexOfAny((byte)'\n', (byte)'\r') >= 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
