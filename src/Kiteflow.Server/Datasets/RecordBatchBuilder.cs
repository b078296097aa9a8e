using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Records;
using Kiteflow.Storage;

namespace Kiteflow.Server.Datasets;

/// <summary>
/// Collects read items into one append: each record's JSON text (compacted onto one line when the input spread it
/// over several, so that stored records are JSON Lines as they are), the read rejections, and the batch's schema.
/// </summary>
internal sealed class RecordBatchBuilder(string origin)
{
    private readonly List<ReadOnlyMemory<byte>> _records = [];
    private readonly List<NewReadRejection> _rejections = [];
    private readonly SchemaInference _schema = new();

    public int RecordCount => _records.Count;

    public int RejectionCount => _rejections.Count;

    public long Bytes { get; private set; }

    public IReadOnlyList<NewReadRejection> Rejections => _rejections;

    public void Add(ReadResult item)
    {
        if (item.Record is { } record)
        {
            using (record)
            {
                var text = Compact(record);
                _records.Add(text);
                Bytes += text.Length;
                _schema.Add(record.Value);
            }
        }
        else if (item.Rejection is { } rejection)
        {
            _rejections.Add(new NewReadRejection(rejection.Line, rejection.Record, rejection.Message, origin));
        }
    }

    public RecordBatch Build(DateTimeOffset at, string? idempotencyKey = null, string? idempotentResponse = null) => new()
    {
        Records = _records,
        Rejections = _rejections,
        Schema = _records.Count > 0 ? SchemaDelta.From(_schema) : null,
        IdempotencyKey = idempotencyKey,
        IdempotentResponse = idempotentResponse,
        At = at,
    };

    private static byte[] Compact(SourceRecord record)
    {
        var text = record.Utf8Json;
        if (text.IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            return text.ToArray();
        }

        // A line break can only be whitespace between tokens (a JSON string cannot hold a raw one): rewrite it compact.
        // Utf8JsonWriter copies numbers' original text, so nothing is rounded.
        var buffer = new ArrayBufferWriter<byte>(text.Length);
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
        {
            record.Value.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
