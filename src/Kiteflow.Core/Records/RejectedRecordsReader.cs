using System.Text;
using System.Text.Json;

namespace Kiteflow.Core.Records;

/// <summary>
/// Reads a file written by <c>send --rejected</c> (format <c>rejected</c>) as the records it holds, so
/// the records refused by one run can be repaired in place and sent by the next: each line's
/// <c>data</c> is the record. An object is the record; a string is a record that could not be read,
/// as the text it had, and is read again from that text (so it has to be repaired into a JSON object
/// first); <c>null</c> marks a record whose text was too large to keep. Positions and lines are this
/// file's own.
/// </summary>
internal sealed class RejectedRecordsReader : RecordReader
{
    private readonly JsonLinesReader _lines;
    private readonly RecordParser _parser;

    public RejectedRecordsReader(Stream stream, ReaderLimits limits)
    {
        // A line wraps its record one level down and adds the error (and Buildkite's response) beside
        // it, so the line may be deeper and larger than the record; the record itself is then held to
        // the ordinary limits.
        _lines = new JsonLinesReader(stream, new ReaderLimits
        {
            MaxDepth = limits.MaxDepth + 2,
            MaxRecordBytes = (int)Math.Min(int.MaxValue, (4L * limits.MaxRecordBytes) + (1 << 20)),
        });
        Input = _lines.Window;
        _parser = new RecordParser(limits);
        Parser = _parser;
    }

    protected override IEnumerable<ReadResult> ReadItems()
    {
        foreach (var read in _lines)
        {
            if (read.Rejection is { } rejection)
            {
                // The line is the user's own file to repair; its text is not copied into the next output.
                yield return ReadResult.Of(rejection with { Message = $"{rejection.Message} (a line of a rejected-records file)", OriginalText = null });
                continue;
            }

            using var line = read.Record!;
            yield return Record(line);
        }
    }

    private ReadResult Record(SourceRecord line)
    {
        var value = line.Value;
        if (!value.TryGetProperty("data", out var data))
        {
            return Refuse(line, "The line has no \"data\", so it is not a line of a rejected-records file ({\"record\":…,\"data\":…,\"error\":…}); read ordinary JSON Lines with --format jsonl.");
        }

        switch (data.ValueKind)
        {
            case JsonValueKind.String:
                return _parser.Parse(Encoding.UTF8.GetBytes(data.GetString()!), line.Position, line.Line);
            case JsonValueKind.Null:
                var where = value.TryGetProperty("line", out var original) && original.ValueKind == JsonValueKind.Number ? $" (line {original.GetInt64()} of the original input)" : string.Empty;
                var why = value.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String ? $" It was refused because: {message.GetString()}" : string.Empty;
                return Refuse(line, $"No text was kept for this record; take it from the original input{where}, repair it and put it in \"data\".{why}");
            default:
                return _parser.Parse(Encoding.UTF8.GetBytes(data.GetRawText()), line.Position, line.Line);
        }
    }

    private static ReadResult Refuse(SourceRecord line, string message) =>
        ReadResult.Of(new Rejection(line.Position, line.Line, RejectionStage.Read, message));

    protected override void DisposeInput() => _lines.Dispose();
}
