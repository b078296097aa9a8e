using System.Collections;

namespace Kiteflow.Core.Records;

/// <summary>
/// Streams the records of an input in order, one <see cref="ReadResult"/> per item: each bad item
/// becomes a read rejection and reading goes on. Memory stays constant whatever the input size.
/// Enumerate once; dispose to close the input.
/// </summary>
public abstract class RecordReader : IEnumerable<ReadResult>, IDisposable
{
    private bool _enumerated;

    private protected RecordReader()
    {
    }

    /// <summary>Opens <paramref name="path"/> (or standard input for <c>-</c>) in the given format, or the one its extension implies.</summary>
    /// <exception cref="InputException">The file cannot be opened or its format is unknown.</exception>
    public static RecordReader Open(string path, InputFormat? format = null, ReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        Stream stream;
        try
        {
            stream = path == "-"
                ? Console.OpenStandardInput()
                : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"Cannot open the input '{path}': {e.Message}", e);
        }

        InputFormat resolved;
        try
        {
            resolved = format ?? (path == "-" ? InputFormat.JsonLines : FormatFromExtension(path));
            if (resolved == InputFormat.JsonArray && format is null && !StartsWithArray(stream))
            {
                // A .json file that does not start with '[' is read as JSON Lines: exports of one
                // object per line are often named .json.
                resolved = InputFormat.JsonLines;
            }

            if (resolved == InputFormat.JsonLines && format is null && StartsLikeRejectedRecords(stream))
            {
                // Sent as JSON Lines, each record would be {record, line, data, error}: say how to send the data.
                throw new InputException($"'{path}' looks like a file of rejected records (written by --rejected). To read the records in its \"data\" (repaired, to send them again), add --format rejected; to read its lines as they are, add --format jsonl.");
            }
        }
        catch (InputException)
        {
            stream.Dispose();
            throw;
        }

        return Create(stream, resolved, limits);
    }

    /// <summary>Reads records from <paramref name="stream"/> in <paramref name="format"/>. The reader owns the stream.</summary>
    public static RecordReader Create(Stream stream, InputFormat format, ReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= ReaderLimits.Default;
        return format switch
        {
            InputFormat.JsonLines => new JsonLinesReader(stream, limits),
            InputFormat.JsonArray => new JsonArrayReader(stream, limits),
            InputFormat.Csv => new CsvRecordReader(stream, limits),
            InputFormat.Rejected => new RejectedRecordsReader(stream, limits),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
    }

    /// <summary>
    /// Reads records a dataset holds, in the order given; each record's position is its <see cref="DatasetItem.Offset"/>.
    /// The items' memory must stay valid until the reader is disposed.
    /// </summary>
    public static RecordReader FromDataset(IEnumerable<DatasetItem> items, ReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new DatasetRecordReader(items, limits ?? ReaderLimits.Default);
    }

    /// <summary>The input format a file name implies: <c>.json</c>, <c>.jsonl</c>/<c>.ndjson</c>, <c>.csv</c>.</summary>
    /// <exception cref="InputException">The extension is none of these.</exception>
    public static InputFormat FormatFromExtension(string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".json" => InputFormat.JsonArray,
            ".jsonl" or ".ndjson" => InputFormat.JsonLines,
            ".csv" => InputFormat.Csv,
            _ => throw new InputException($"Cannot tell the format of '{path}' from its extension '{extension}'; name the format (json, jsonl or csv)."),
        };
    }

    /// <summary>Parses a format name as written on the command line: <c>json</c>, <c>jsonl</c>, <c>ndjson</c>, <c>csv</c>, <c>rejected</c>.</summary>
    public static InputFormat? ParseFormatName(string? name) => name?.ToLowerInvariant() switch
    {
        null or "" => null,
        "json" or "json-array" => InputFormat.JsonArray,
        "jsonl" or "ndjson" or "json-lines" => InputFormat.JsonLines,
        "csv" => InputFormat.Csv,
        "rejected" => InputFormat.Rejected,
        _ => throw new InputException($"Unknown input format '{name}'; use json, jsonl, csv or rejected."),
    };

    /// <summary>How much of the input has been read, from 0 to 1, for progress and ETA; null when the input's size is unknown (a pipe).</summary>
    public double? Fraction => Input?.Fraction;

    /// <summary>The byte window the reader scans, which knows how far into the stream it is.</summary>
    private protected ByteInput? Input { get; init; }

    /// <summary>Turns each item's bytes into a record.</summary>
    private protected RecordParser? Parser { get; init; }

    /// <summary>
    /// From now on, records come out unparsed (only their size is checked) and
    /// <see cref="SourceRecord.Complete"/> checks their UTF-8 and parses them: the planner does that on
    /// several threads while this reader only finds where records end. Call before enumerating.
    /// </summary>
    internal void DeferParsing() => Parser!.Defers = true;

    /// <inheritdoc />
    public IEnumerator<ReadResult> GetEnumerator()
    {
        if (_enumerated)
        {
            throw new InvalidOperationException("A record reader can be enumerated once.");
        }

        _enumerated = true;
        return ReadItems().GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeInput();
        GC.SuppressFinalize(this);
    }

    /// <summary>Yields the input's items in order.</summary>
    protected abstract IEnumerable<ReadResult> ReadItems();

    /// <summary>Closes the input.</summary>
    protected abstract void DisposeInput();

    private protected static void SkipBom(ByteInput input)
    {
        while (input.Unconsumed.Length < 3 && input.Fill())
        {
        }

        if (input.Unconsumed.StartsWith("\uFEFF"u8))
        {
            input.Start += 3;
        }
    }

    /// <summary>
    /// Whether the first line is one <c>send --rejected</c> writes: <c>{"record":N,"line":…,"data":</c>,
    /// the order <c>send --rejected</c> writes its keys in. Only a seekable stream is looked at.
    /// </summary>
    private static bool StartsLikeRejectedRecords(Stream stream)
    {
        if (!stream.CanSeek)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[256];
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        var span = head[..read];
        if (span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }

        if (!span.StartsWith("{\"record\":"u8))
        {
            return false;
        }

        span = span["{\"record\":"u8.Length..];
        var digits = span.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (digits <= 0)
        {
            return false;
        }

        span = span[digits..];
        if (!span.StartsWith(",\"line\":"u8))
        {
            return false;
        }

        span = span[",\"line\":"u8.Length..];
        var end = span.IndexOf((byte)',');
        return end > 0 && span[(end + 1)..].StartsWith("\"data\":"u8);
    }

    private static bool StartsWithArray(Stream stream)
    {
        if (!stream.CanSeek)
        {
            return true;
        }

        Span<byte> head = stackalloc byte[256];
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        var span = head[..read];
        if (span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }

        var first = span.IndexOfAnyExcept(" \t\r\n"u8);
        return first < 0 || span[first] == (byte)'[';
    }
}
