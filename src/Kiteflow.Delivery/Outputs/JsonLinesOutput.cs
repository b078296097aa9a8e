using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// A JSON Lines file that concurrent senders append to, one whole line at a time: each line, newline included,
/// goes to the file in one write, unbuffered, so a process killed at any instant leaves whole lines behind
/// (and at most the one being written cut short, which the next run that appends removes). The file is
/// created 0600: it holds API responses.
/// </summary>
internal sealed class JsonLinesOutput : IAsyncDisposable
{
    private readonly FileStream? _stream;
    private readonly Lock _lock = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    private JsonLinesOutput(FileStream? stream, long tornBytes)
    {
        _stream = stream;
        TornBytesRemoved = tornBytes;
        _writer = new Utf8JsonWriter(_buffer, MinimalJsonEncoder.CompactWriterOptions);
    }

    /// <summary>An output that writes nothing (the option was not given).</summary>
    public static JsonLinesOutput None { get; } = new(null, 0);

    /// <summary>Whether lines go anywhere.</summary>
    public bool IsEnabled => _stream is not null;

    /// <summary>
    /// The length of the half-written last line (without its newline) that opening to append removed: what a
    /// process killed in the middle of a write left. 0 when the file ended with a whole line.
    /// </summary>
    public long TornBytesRemoved { get; }

    /// <summary>
    /// Opens <paramref name="path"/> to append to, or to start afresh. When appending to a file whose last line has
    /// no newline (an earlier run was killed while writing it), that torn line is cut off first, so the file stays
    /// valid JSON Lines.
    /// </summary>
    public static JsonLinesOutput Open(string? path, bool append)
    {
        if (path is null)
        {
            return None;
        }

        var stream = PrivateFiles.Open(path, append ? FileMode.OpenOrCreate : FileMode.Create, append ? FileAccess.ReadWrite : FileAccess.Write);
        try
        {
            var torn = 0L;
            if (append && stream.CanSeek)
            {
                torn = CutTornTail(stream);
                stream.Seek(0, SeekOrigin.End);
            }

            return new JsonLinesOutput(stream, torn);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Writes one line: <paramref name="write"/> writes one JSON value.</summary>
    public void Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        if (_stream is null)
        {
            return;
        }

        lock (_lock)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            write(_writer, state);
            _writer.Flush();
            _buffer.Write("\n"u8);
            _stream.Write(_buffer.WrittenSpan);
        }
    }

    /// <summary>Writes one line of JSON already serialized (without its newline).</summary>
    public void WriteLine(ReadOnlySpan<byte> json)
    {
        if (_stream is null)
        {
            return;
        }

        lock (_lock)
        {
            _buffer.ResetWrittenCount();
            _buffer.Write(json);
            _buffer.Write("\n"u8);
            _stream.Write(_buffer.WrittenSpan);
        }
    }

    /// <summary>Pushes written lines to the file (they are written through already; kept for callers that flush).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            _stream?.Flush();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.FlushAsync().ConfigureAwait(false);
            await _stream.DisposeAsync().ConfigureAwait(false);
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Cuts the file after its last newline when it does not end with one; returns how many bytes went.</summary>
    private static long CutTornTail(FileStream stream)
    {
        var length = stream.Length;
        if (length == 0)
        {
            return 0;
        }

        Span<byte> last = stackalloc byte[1];
        stream.Seek(length - 1, SeekOrigin.Begin);
        stream.ReadExactly(last);
        if (last[0] == (byte)'\n')
        {
            return 0;
        }

        // Read backwards a block at a time to the newline that ends the last whole line.
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var end = length;
            while (end > 0)
            {
                var start = Math.Max(0, end - buffer.Length);
                var count = (int)(end - start);
                stream.Seek(start, SeekOrigin.Begin);
                stream.ReadExactly(buffer.AsSpan(0, count));
                var newline = buffer.AsSpan(0, count).LastIndexOf((byte)'\n');
                if (newline >= 0)
                {
                    stream.SetLength(start + newline + 1);
                    return length - (start + newline + 1);
                }

                end = start;
            }

            stream.SetLength(0);
            return length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
