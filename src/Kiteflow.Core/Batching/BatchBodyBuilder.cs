using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Scripting;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Batching;

/// <summary>Makes one batch's body as JSON by the destination's grouping algorithm (SPEC §2.6).</summary>
internal sealed class BatchBodyBuilder
{
    private readonly BatchingSettings _settings;
    private readonly BatchScript? _script;
    private readonly string _destination;
    private readonly byte[] _prefix;   // what comes before the records' array
    private readonly byte[] _suffix;   // what comes after it
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);

    public BatchBodyBuilder(BatchingSettings settings, BatchScript? script, string destination)
    {
        _settings = settings;
        _script = script;
        _destination = destination;
        (_prefix, _suffix) = settings.Algorithm == BatchAlgorithm.Property ? Wrapper(settings) : ([], []);
    }

    /// <summary>The body's size in bytes for a batch whose records' JSON adds up to <paramref name="recordBytes"/>.</summary>
    public long SizeOf(int count, long recordBytes) => _prefix.Length + _suffix.Length + 2 + recordBytes + Math.Max(0, count - 1);

    /// <summary>Builds the body. For the code algorithm the script may fail: then the error is returned instead.</summary>
    public (byte[]? Json, byte[]? Text, string? Error) Build(BatchGroup group, long batchIndex)
    {
        _buffer.ResetWrittenCount();
        _buffer.Write(_prefix);
        group.WriteArray(_buffer);
        _buffer.Write(_suffix);
        if (_settings.Algorithm != BatchAlgorithm.Code)
        {
            return (_buffer.WrittenSpan.ToArray(), null, null);
        }

        var result = _script!.Run(_buffer.WrittenSpan, _destination, group.Url, batchIndex, _settings.MaxBatchBytes);
        if (result.Error is not null)
        {
            return (null, null, result.Error);
        }

        return result.IsJson ? (result.Body, null, null) : (null, result.Body, null);
    }

    /// <summary>For the property algorithm: <c>{...otherProps, "name": [</c> and <c>]}</c>.</summary>
    private static (byte[] Prefix, byte[] Suffix) Wrapper(BatchingSettings settings)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
        {
            writer.WriteStartObject();
            if (settings.OtherProps is { } other)
            {
                using var document = JsonDocument.Parse(other);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    property.WriteTo(writer);
                }
            }

            writer.WritePropertyName(settings.PropertyName!);
            writer.WriteRawValue("[]"u8, skipInputValidation: true);
            writer.WriteEndObject();
        }

        // Split the written "{…,"name":[]}" around the empty array.
        var text = buffer.WrittenSpan;
        var cut = text.LastIndexOf("[]"u8);
        return (text[..cut].ToArray(), text[(cut + 2)..].ToArray());
    }
}
