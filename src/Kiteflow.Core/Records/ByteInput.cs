namespace Kiteflow.Core.Records;

/// <summary>
/// A forward-only window over a stream of bytes that the readers scan in place. The window grows
/// to hold one whole record (bounded by the record limit) and is compacted as records are consumed,
/// so memory stays constant whatever the input size.
/// </summary>
internal sealed class ByteInput : IDisposable
{
    private const int InitialSize = 64 * 1024;
    private readonly Stream _stream;
    private byte[] _buffer = new byte[InitialSize];

    public ByteInput(Stream stream) => _stream = stream;

    /// <summary>Offset of the first unconsumed byte in <see cref="Buffer"/>.</summary>
    public int Start { get; set; }

    /// <summary>Offset one past the last byte read into <see cref="Buffer"/>.</summary>
    public int End { get; private set; }

    /// <summary>True once the stream has no more bytes.</summary>
    public bool AtEndOfStream { get; private set; }

    public byte[] Buffer => _buffer;

    public ReadOnlySpan<byte> Unconsumed => _buffer.AsSpan(Start, End - Start);

    /// <summary>
    /// Reads more bytes, moving the unconsumed bytes to the front and growing the buffer when they
    /// fill it. Callers hold positions relative to <see cref="Start"/>, which stay valid. Returns false
    /// once the stream is exhausted.
    /// </summary>
    public bool Fill()
    {
        if (AtEndOfStream)
        {
            return false;
        }

        if (Start > 0)
        {
            Array.Copy(_buffer, Start, _buffer, 0, End - Start);
            End -= Start;
            Start = 0;
        }

        if (End == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = _stream.Read(_buffer, End, _buffer.Length - End);
        if (read == 0)
        {
            AtEndOfStream = true;
            return false;
        }

        End += read;
        return true;
    }

    /// <summary>How much of the input has been consumed, from 0 to 1; null when the stream's length is unknown.</summary>
    public double? Fraction
    {
        get
        {
            if (!_stream.CanSeek)
            {
                return null;
            }

            try
            {
                var length = _stream.Length;
                return length == 0 ? 1 : Math.Clamp((_stream.Position - (End - Start)) / (double)length, 0, 1);
            }
            catch (ObjectDisposedException)
            {
                return 1;
            }
        }
    }

    /// <summary>
    /// Called when a scan reached the end of the window inside a record: once the record's bytes pass
    /// <paramref name="limit"/>, they are dropped (and counted in <paramref name="skip"/>) instead of held,
    /// so an oversized record is skipped in constant memory. Returns true when bytes were dropped: the
    /// caller's offsets into the window then start again at 0.
    /// </summary>
    public bool MakeRoom(ref SkipState skip, int limit)
    {
        var length = End - Start;
        if (!skip.Active && length > limit)
        {
            skip.Active = true;
        }

        if (!skip.Active)
        {
            return false;
        }

        skip.Skipped += length;
        DiscardAll();
        return true;
    }

    /// <summary>Drops every unconsumed byte (used while skipping an oversized record).</summary>
    public void DiscardAll() => Start = End;

    /// <summary>Shrinks the buffer back after an unusually large record.</summary>
    public void Trim()
    {
        if (_buffer.Length > 4 * 1024 * 1024 && End - Start < InitialSize)
        {
            var smaller = new byte[InitialSize * 2];
            Array.Copy(_buffer, Start, smaller, 0, End - Start);
            End -= Start;
            Start = 0;
            _buffer = smaller;
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>Whether the record being scanned passed the size limit, and how many of its bytes were dropped.</summary>
internal struct SkipState
{
    public bool Active;
    public long Skipped;
}
