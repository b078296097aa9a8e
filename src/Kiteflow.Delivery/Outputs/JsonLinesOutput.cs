using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;

namespace Kiteflow.Delivery.Outputs;

/// <summary>A JSON Lines file that concurrent senders append to, one whole line at a time.</summary>
internal sealed class JsonLinesOutput : IAsyncDisposable
{
    private readonly FileStream? _stream;
    private readonly Lock _lock = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    private JsonLinesOutput(FileStream? stream)
    {
        _stream = stream;
        _writer = new Utf8JsonWriter(_buffer, MinimalJsonEncoder.CompactWriterOptions);
    }

    /// <summary>An output that writes nothing (the option was not given).</summary>
    public static JsonLinesOutput None { get; } = new(null);

    /// <summary>Whether lines go anywhere.</summary>
    public bool IsEnabled => _stream is not null;

    /// <summary>Opens <paramref name="path"/> to append to, or to start afresh.</summary>
    public static JsonLinesOutput Open(string? path, bool append)
    {
        if (path is null)
        {
            return None;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        return new JsonLinesOutput(new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024));
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
            _stream.Write(json);
            _stream.Write("\n"u8);
        }
    }

    /// <summary>Pushes written lines to the file.</summary>
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
}
