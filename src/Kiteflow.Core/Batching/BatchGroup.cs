using System.Buffers;
using System.Text;

namespace Kiteflow.Core.Batching;

/// <summary>
/// The records waiting to be sent to one URL with one set of headers: each record's shaped JSON,
/// its position and (optionally) its original text, in dataset order.
/// </summary>
internal sealed class BatchGroup
{
    private readonly ArrayBufferWriter<byte> _json = new(4096);
    private readonly List<(int Offset, int Length)> _slices = [];

    /// <summary>Makes the group hold records for <paramref name="url"/> with <paramref name="headers"/>; a group is reused after it was sent.</summary>
    public BatchGroup Start(string key, string url, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        Key = key;
        Url = url;
        Headers = headers;
        return this;
    }

    public string Key { get; private set; } = string.Empty;

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; private set; } = [];

    public List<long> Positions { get; } = [];

    private readonly ArrayBufferWriter<byte> _texts = new();
    private readonly List<int> _textOffsets = [0];

    public List<long> Lines { get; } = [];

    public int Count => _slices.Count;

    /// <summary>The bytes of the records' JSON, without separators.</summary>
    public long RecordBytes { get; private set; }

    /// <summary>The delivery id of the batch now filling (set when its first record arrives).</summary>
    public string? DeliveryId { get; set; }

    /// <summary>The group's node in the planner's oldest-first list.</summary>
    public LinkedListNode<BatchGroup>? Node { get; set; }

    /// <summary>
    /// Adds a record's shaped JSON; when <paramref name="idAt"/> is not -1, the batch's delivery id is
    /// spliced in there (see <see cref="Shaping.BodyShaper.TryWrite"/>).
    /// </summary>
    public void Add(long position, long line, ReadOnlySpan<byte> shapedJson, int idAt, string? deliveryId, ReadOnlySpan<byte> recordText, bool keepText)
    {
        var start = _json.WrittenCount;
        if (idAt < 0 || deliveryId is null)
        {
            _json.Write(shapedJson);
        }
        else
        {
            _json.Write(shapedJson[..idAt]);
            _json.Advance(Encoding.ASCII.GetBytes(deliveryId, _json.GetSpan(deliveryId.Length)));  // delivery ids are ASCII
            _json.Write(shapedJson[idAt..]);
        }

        var length = _json.WrittenCount - start;
        _slices.Add((start, length));
        RecordBytes += length;
        Positions.Add(position);
        if (keepText)
        {
            _texts.Write(recordText);
            _textOffsets.Add(_texts.WrittenCount);
            Lines.Add(line);
        }
    }

    /// <summary>The original records' text, when kept.</summary>
    public Planning.RecordTexts RecordTexts() => new(_texts.WrittenSpan.ToArray(), [.. _textOffsets]);

    /// <summary>Writes the records as a JSON array.</summary>
    public void WriteArray(IBufferWriter<byte> output)
    {
        output.Write("["u8);
        var written = _json.WrittenSpan;
        for (var i = 0; i < _slices.Count; i++)
        {
            if (i > 0)
            {
                output.Write(","u8);
            }

            output.Write(written.Slice(_slices[i].Offset, _slices[i].Length));
        }

        output.Write("]"u8);
    }

    /// <summary>Empties the group, keeping its buffers for the next batch.</summary>
    public void Clear()
    {
        _json.ResetWrittenCount();
        _slices.Clear();
        _texts.ResetWrittenCount();
        _textOffsets.Clear();
        _textOffsets.Add(0);
        Positions.Clear();
        Lines.Clear();
        RecordBytes = 0;
        DeliveryId = null;
    }
}
