using System.Buffers;
using System.Text.Json;

namespace Kiteflow.Core.Records;

/// <summary>
/// One record read from the input: a JSON object with its 0-based position and the line it starts on.
/// It owns pooled memory: dispose it once the record has been written out.
/// </summary>
public sealed class SourceRecord : IDisposable
{
    private byte[]? _rented;
    private JsonDocument? _document;

    internal SourceRecord(long position, long line, byte[] rented, int length, JsonDocument document)
    {
        Position = position;
        Line = line;
        _rented = rented;
        Utf8Length = length;
        _document = document;
        Value = document.RootElement;
    }

    /// <summary>The record's 0-based position in the input, counting every record, bad ones included.</summary>
    public long Position { get; }

    /// <summary>The 1-based line of the input the record starts on.</summary>
    public long Line { get; }

    /// <summary>The record, always a JSON object.</summary>
    public JsonElement Value { get; }

    /// <summary>The size of the record's JSON text as read.</summary>
    public int Utf8Length { get; }

    /// <summary>The record's JSON text (compact for CSV, as read for JSON input).</summary>
    public ReadOnlySpan<byte> Utf8Json => _rented is null ? throw new ObjectDisposedException(nameof(SourceRecord)) : _rented.AsSpan(0, Utf8Length);

    /// <inheritdoc />
    public void Dispose()
    {
        _document?.Dispose();
        _document = null;
        if (_rented is { } rented)
        {
            _rented = null;
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
