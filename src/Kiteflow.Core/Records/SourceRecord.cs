using System.Buffers;
using System.Text.Json;

namespace Kiteflow.Core.Records;

/// <summary>
/// One record read from the input: a JSON object with its 0-based position and the line it starts on.
/// It owns pooled memory: dispose it once the record has been written out.
/// </summary>
public sealed class SourceRecord : IDisposable
{
    private readonly ArrayPool<byte> _pool;
    private byte[]? _rented;
    private JsonDocument? _document;
    private RecordParser? _parser;  // set while the record waits to be parsed (deferred parsing)
    private JsonElement _value;

    /// <summary>A record whose bytes are not parsed yet: <see cref="Complete"/> parses them.</summary>
    internal SourceRecord(long position, long line, byte[] rented, int length, RecordParser parser, ArrayPool<byte> pool)
    {
        _pool = pool;
        Position = position;
        Line = line;
        _rented = rented;
        Utf8Length = length;
        _parser = parser;
        MaxDepth = parser.Limits.MaxDepth;
    }

    /// <summary>The record's 0-based position in the input, counting every record, bad ones included.</summary>
    public long Position { get; }

    /// <summary>The 1-based line of the input the record starts on.</summary>
    public long Line { get; }

    /// <summary>The record, always a JSON object.</summary>
    public JsonElement Value => _document is not null
        ? _value
        : throw new InvalidOperationException(_rented is null ? "The record was disposed." : "The record is not parsed, or its value was released.");

    /// <summary>How deep the record may nest: its reader's limit, for whoever reads <see cref="Utf8Json"/> itself.</summary>
    internal int MaxDepth { get; }

    /// <summary>The size of the record's JSON text as read.</summary>
    public int Utf8Length { get; }

    /// <summary>The record's JSON text (compact for CSV, as read for JSON input).</summary>
    public ReadOnlySpan<byte> Utf8Json => _rented is null ? throw new ObjectDisposedException(nameof(SourceRecord)) : _rented.AsSpan(0, Utf8Length);

    /// <summary>
    /// Parses the record's bytes; returns the read rejection when they are not valid UTF-8 or not a
    /// JSON object (the record then has no <see cref="Value"/>). A parsed record returns null. Safe to
    /// call from any thread, once at a time per record.
    /// </summary>
    internal Rejection? Complete()
    {
        if (_parser is not { } parser)
        {
            return null;
        }

        _parser = null;
        var (document, rejection) = parser.ParseDocument(_rented!, Utf8Length, Position, Line);
        if (document is not null)
        {
            _document = document;
            _value = document.RootElement;
        }

        return rejection;
    }

    /// <summary>
    /// Gives back the parsed document while keeping the bytes, once <see cref="Value"/> is no longer
    /// needed: on the thread that parsed it, the pooled memory goes back where it came from.
    /// </summary>
    internal void ReleaseValue()
    {
        _document?.Dispose();
        _document = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ReleaseValue();
        if (_rented is { } rented)
        {
            _rented = null;
            _pool.Return(rented);
        }
    }
}
