using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Kiteflow.Core.Json;

namespace Kiteflow.Core.Records;

/// <summary>Turns the bytes of one input item into a <see cref="SourceRecord"/> or a read rejection.</summary>
internal sealed class RecordParser
{
    private readonly ReaderLimits _limits;
    private readonly JsonDocumentOptions _options;

    // Records' bytes. Not ArrayPool.Shared: the planner holds hundreds of records at once (rented on one
    // thread, returned on another), more than the shared pool keeps, which then allocates each time.
    private readonly ArrayPool<byte> _pool = ArrayPool<byte>.Create(maxArrayLength: 1 << 20, maxArraysPerBucket: 1024);

    public RecordParser(ReaderLimits limits)
    {
        _limits = limits;
        _options = new JsonDocumentOptions { MaxDepth = limits.MaxDepth };
    }

    public ReaderLimits Limits => _limits;

    /// <summary>Whether <see cref="Parse"/> leaves checking and parsing to <see cref="SourceRecord.Complete"/>.</summary>
    public bool Defers { get; set; }

    public ReadResult Parse(ReadOnlySpan<byte> utf8, long position, long line)
    {
        if (utf8.Length > _limits.MaxRecordBytes)
        {
            return Oversized(position, line, utf8.Length);
        }

        // The document keeps a reference to the bytes for its lifetime, so they are copied out of
        // the reader's window into pooled memory that the record returns when disposed.
        var rented = _pool.Rent(utf8.Length);
        utf8.CopyTo(rented);
        var record = new SourceRecord(position, line, rented, utf8.Length, this, _pool);
        if (!Defers && record.Complete() is { } rejection)
        {
            record.Dispose();
            return ReadResult.Of(rejection);
        }

        return ReadResult.Of(record);
    }

    /// <summary>Checks and parses a record's bytes: a JSON object document, or the read rejection saying why not.</summary>
    internal (JsonDocument? Document, Rejection? Rejection) ParseDocument(byte[] bytes, int length, long position, long line)
    {
        var utf8 = bytes.AsSpan(0, length);
        if (!Utf8.IsValid(utf8))
        {
            return (null, InvalidUtf8(utf8, position, line));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.AsMemory(0, length), _options);
        }
        catch (JsonException e)
        {
            return (null, new Rejection(position, line + (e.LineNumber ?? 0), RejectionStage.Read, DescribeJsonError(e)) { OriginalText = Encoding.UTF8.GetString(utf8) });
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = KindName(document.RootElement.ValueKind);
            document.Dispose();
            return (null, new Rejection(position, line, RejectionStage.Read, $"The record is {kind}, not a JSON object; every record must be an object such as {{\"branch\":\"main\"}}.") { OriginalText = Encoding.UTF8.GetString(utf8) });
        }

        if (LoneSurrogates.FindEscape(utf8) is var at and >= 0)
        {
            var where = LoneSurrogates.Find(document.RootElement);
            document.Dispose();
            return (null, LoneSurrogate(utf8, at, where, position, line));
        }

        return (document, null);
    }

    /// <summary>
    /// A record whose string escapes half of a surrogate pair: valid JSON, but not text, so no later stage
    /// could read the string (or write it to the rejected file as anything but the text it had).
    /// </summary>
    private static Rejection LoneSurrogate(ReadOnlySpan<byte> utf8, int offset, List<(string Path, int KeyNumber)> where, long position, long line)
    {
        var lineOffset = utf8[..offset].Count((byte)'\n');
        var escape = Encoding.ASCII.GetString(utf8.Slice(offset, 6));
        var first = where.Count > 0 ? LoneSurrogates.Describe(where[0], "attribute") : "a string";
        var more = where.Count > 1 ? $" (and {where.Count - 1} more)" : string.Empty;
        return new Rejection(position, line + lineOffset, RejectionStage.Read,
            $"{char.ToUpperInvariant(first[0])}{first[1..]}{more} holds {escape}, half of a UTF-16 surrogate pair without its other half, which is not text; write the character itself, or both halves of the pair.")
        {
            OriginalText = Encoding.UTF8.GetString(utf8),
        };
    }

    public ReadResult Oversized(long position, long line, long length) =>
        ReadResult.Of(new Rejection(position, line, RejectionStage.Read,
            $"The record is larger than {_limits.MaxRecordBytes / (1024 * 1024)} MiB ({length:N0} bytes or more) and was skipped; split it or remove large values."));

    internal static Rejection InvalidUtf8(ReadOnlySpan<byte> utf8, long position, long line)
    {
        var offset = 0;
        var lineOffset = 0L;
        while (offset < utf8.Length)
        {
            if (Rune.DecodeFromUtf8(utf8[offset..], out var rune, out var consumed) != OperationStatus.Done)
            {
                break;
            }

            if (rune.Value == '\n')
            {
                lineOffset++;
            }

            offset += consumed;
        }

        return new Rejection(position, line + lineOffset, RejectionStage.Read,
            $"The record is not valid UTF-8 (byte 0x{utf8[offset]:X2} at offset {offset} of the record); save the file as UTF-8.")
        {
            OriginalText = Encoding.UTF8.GetString(utf8),
        };
    }

    private string DescribeJsonError(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        }

        if (cut > 0)
        {
            message = message[..cut].TrimEnd();
        }

        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return $"The record nests objects or arrays deeper than {_limits.MaxDepth} levels; flatten it.";
        }

        var column = e.BytePositionInLine is { } b ? $" at column {b + 1}" : string.Empty;
        return $"Malformed JSON{column}: {message}";
    }

    internal static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        _ => "empty",
    };
}
