using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Templating;

namespace Kiteflow.Core.Shaping;

/// <summary>
/// Writes a record as the body's object: excluded attribute paths left out (SPEC §2.5) and, for
/// create-build, <c>meta_data.kiteflow_delivery_id</c> set so an ambiguous failure can be checked
/// with the builds list's <c>meta_data</c> filter before anything is resent.
/// </summary>
/// <remarks>
/// It streams: one <see cref="Utf8JsonReader"/> pass over the record's bytes, copying each token's bytes as they
/// are (numbers keep their exact text, strings without escapes need no decoding) and leaving out what is excluded,
/// so no document is built. The same pass checks that the record is well-formed JSON and can capture the values the
/// URL and header macros need (<see cref="MacroCapture"/>). The output is compact, and strings are escaped as
/// <see cref="MinimalJsonEncoder"/> escapes them: a string that held escapes is decoded and written again by a
/// <see cref="Utf8JsonWriter"/> with that encoder, exactly as writing the parsed value would.
/// </remarks>
internal sealed class BodyShaper
{
    /// <summary>The meta-data key that carries the delivery id of a create-build request.</summary>
    public const string DeliveryIdKey = "kiteflow_delivery_id";

    private static readonly byte[] MetaData = "meta_data"u8.ToArray();
    private static readonly byte[] DeliveryId = "kiteflow_delivery_id"u8.ToArray();

    [ThreadStatic]
    private static Escaper? t_escaper;

    private readonly ExclusionTree _excluded;

    private BodyShaper(ExclusionTree excluded, bool injectDeliveryId)
    {
        _excluded = excluded;
        InjectsDeliveryId = injectDeliveryId;
    }

    /// <summary>Whether the body's object differs from the record at all.</summary>
    public bool ChangesRecord => _excluded.Children.Count > 0 || InjectsDeliveryId;

    /// <summary>Whether any attribute is excluded.</summary>
    public bool Excludes => _excluded.Children.Count > 0;

    /// <summary>Whether each body gets <c>meta_data.kiteflow_delivery_id</c>.</summary>
    public bool InjectsDeliveryId { get; }

    /// <summary>The excluded paths, for checking the body as it will be sent.</summary>
    public ExclusionTree? Exclusions => Excludes ? _excluded : null;

    public static BodyShaper? Compile(IList<string> excludeAttributes, bool injectDeliveryId, List<SettingsProblem> problems)
    {
        var root = ExclusionTree.CreateRoot();
        var ok = true;
        for (var i = 0; i < excludeAttributes.Count; i++)
        {
            var path = excludeAttributes[i].StartsWith("record.", StringComparison.Ordinal) ? excludeAttributes[i]["record.".Length..] : excludeAttributes[i];
            var parts = path.Split('.');
            if (path.Length == 0 || Array.Exists(parts, p => p.Length == 0))
            {
                problems.Add(new SettingsProblem($"excludeAttributes[{i}]", $"'{excludeAttributes[i]}' is not an attribute path; write e.g. \"org\" or \"author.email\"."));
                ok = false;
                continue;
            }

            root.Add(parts);
        }

        return ok ? new BodyShaper(root, injectDeliveryId) : null;
    }

    /// <summary>
    /// Appends the JSON object <paramref name="json"/> (valid UTF-8) shaped to <paramref name="output"/>, and
    /// captures the macro values <paramref name="values"/> asks for on the way. <paramref name="deliveryId"/> (ASCII)
    /// is required when <see cref="InjectsDeliveryId"/>; it may be empty, to be filled in later at the returned offset.
    /// </summary>
    /// <param name="output">Where the shaped object goes; on failure, whatever was appended is to be ignored.</param>
    /// <param name="json">The record (or a filled body template): one JSON value.</param>
    /// <param name="deliveryId">The delivery id to write, or null when none is injected.</param>
    /// <param name="maxDepth">The deepest nesting allowed, as the record's parser allows it.</param>
    /// <param name="values">Where the URL's and headers' macro values go; null to capture nothing.</param>
    /// <param name="idAt">
    /// Where the delivery id's characters start, counted from where this call began writing; -1 when none is
    /// written. A batch's id is known only once its first record is, so records shaped ahead of batching write an
    /// empty id and the batch splices its id in there.
    /// </param>
    /// <returns>False (nothing usable written) when <paramref name="json"/> is not a JSON object.</returns>
    /// <exception cref="JsonException"><paramref name="json"/> is not well-formed JSON, or nests deeper than <paramref name="maxDepth"/>.</exception>
    public bool TryWrite(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> json, string? deliveryId, int maxDepth, CapturedValues? values, out int idAt)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        idAt = -1;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        values?.Clear();
        var writer = new Walker(output, values);
        writer.Object(ref reader, write: true, ChangesRecord ? _excluded : null, values?.Capture.Root, InjectsDeliveryId ? deliveryId : null, root: true, ref idAt);

        // Only whitespace may follow the object; the reader throws on anything else.
        while (reader.Read())
        {
        }

        return true;
    }

    /// <summary>
    /// Copies tokens to the output as it reads them, keeping track of where a comma is due. One instance per
    /// <see cref="TryWrite"/> call.
    /// </summary>
    private ref struct Walker(ArrayBufferWriter<byte> output, CapturedValues? values)
    {
        private readonly int _start = output.WrittenCount;
        private bool _comma;

        /// <summary>
        /// Handles the object <paramref name="reader"/> stands on (its start), through its end: writes it when
        /// <paramref name="write"/>, leaving out what <paramref name="excluded"/> excludes, captures the values under
        /// <paramref name="capture"/>, and adds the delivery id where it belongs.
        /// </summary>
        /// <remarks><paramref name="inject"/>: at the root, the delivery id meta_data gets; inside meta_data, the id this object gets.</remarks>
        public void Object(ref Utf8JsonReader reader, bool write, ExclusionTree? excluded, MacroCapture.Node? capture, string? inject, bool root, ref int idAt)
        {
            if (write)
            {
                Begin();
                output.Write("{"u8);
                _comma = false;
            }

            var wroteMetaData = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var child = excluded?.Find(ref reader);
                var captured = capture?.Find(ref reader);
                if (captured is not null)
                {
                    values!.Reset(captured);  // a name that occurs again: its last value counts
                }

                if (!root && inject is not null && reader.ValueTextEquals(DeliveryId))
                {
                    Value(ref reader, write: false, null, captured, ref idAt);  // replaced at the end
                    continue;
                }

                if (child is { IsLeaf: true })
                {
                    Value(ref reader, write: false, null, captured, ref idAt);
                    continue;
                }

                var isMetaData = root && inject is not null && reader.ValueTextEquals(MetaData);
                if (write)
                {
                    PropertyName(ref reader);
                }

                reader.Read();
                if (isMetaData && reader.TokenType == JsonTokenType.StartObject)
                {
                    Capture(ref reader, captured);
                    Object(ref reader, write, child, captured, inject, root: false, ref idAt);
                    wroteMetaData = true;
                    continue;
                }

                wroteMetaData |= isMetaData;
                Value(ref reader, write, child, captured, ref idAt, readName: false);
            }

            if (root && inject is not null && !wroteMetaData && write)
            {
                Begin();
                output.Write("\"meta_data\":"u8);
                output.Write("{"u8);
                _comma = false;
                idAt = WriteDeliveryId(inject);
                output.Write("}"u8);
                _comma = true;
            }
            else if (!root && inject is not null && write)
            {
                idAt = WriteDeliveryId(inject);
            }

            if (write)
            {
                output.Write("}"u8);
                _comma = true;
            }
        }

        /// <summary>
        /// Handles a property's value (<paramref name="readName"/>: <paramref name="reader"/> stands on the name;
        /// otherwise on the value's first token), through its end.
        /// </summary>
        private void Value(ref Utf8JsonReader reader, bool write, ExclusionTree? excluded, MacroCapture.Node? capture, ref int idAt, bool readName = true)
        {
            if (readName)
            {
                reader.Read();
            }

            Capture(ref reader, capture);
            if (reader.TokenType == JsonTokenType.StartObject && (excluded is not null || capture is { HasChildren: true }))
            {
                Object(ref reader, write, excluded, capture, inject: null, root: false, ref idAt);
            }
            else if (write)
            {
                Copy(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        private readonly void Capture(ref Utf8JsonReader reader, MacroCapture.Node? capture)
        {
            if (capture is { Slot: >= 0 })
            {
                values!.Set(capture.Slot, MacroValue.Of(ref reader));
            }
        }

        /// <summary>Copies the value <paramref name="reader"/> stands on, token by token, through its end.</summary>
        private void Copy(ref Utf8JsonReader reader)
        {
            var depth = reader.CurrentDepth;
            while (true)
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        Begin();
                        output.Write("{"u8);
                        _comma = false;
                        break;
                    case JsonTokenType.StartArray:
                        Begin();
                        output.Write("["u8);
                        _comma = false;
                        break;
                    case JsonTokenType.EndObject:
                        output.Write("}"u8);
                        _comma = true;
                        break;
                    case JsonTokenType.EndArray:
                        output.Write("]"u8);
                        _comma = true;
                        break;
                    case JsonTokenType.PropertyName:
                        PropertyName(ref reader);
                        break;
                    case JsonTokenType.String:
                        Begin();
                        String(ref reader);
                        _comma = true;
                        break;
                    default:
                        // Numbers keep their exact text; true, false and null are their own text.
                        Begin();
                        output.Write(reader.ValueSpan);
                        _comma = true;
                        break;
                }

                // Done at a single value, or at the end of the object or array that began at this depth.
                if (reader.CurrentDepth == depth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
                {
                    return;
                }

                reader.Read();
            }
        }

        private void PropertyName(ref Utf8JsonReader reader)
        {
            Begin();
            String(ref reader);
            output.Write(":"u8);
            _comma = false;
        }

        /// <summary>Writes the string or property name <paramref name="reader"/> stands on, quoted.</summary>
        private readonly void String(ref Utf8JsonReader reader)
        {
            if (reader.ValueIsEscaped)
            {
                (t_escaper ??= new Escaper()).Write(output, ref reader);
                return;
            }

            // Valid UTF-8 with no escape holds no quote, backslash or control character: nothing to escape.
            var value = reader.ValueSpan;
            var span = output.GetSpan(value.Length + 2);
            span[0] = (byte)'"';
            value.CopyTo(span[1..]);
            span[value.Length + 1] = (byte)'"';
            output.Advance(value.Length + 2);
        }

        /// <summary>Writes the delivery id property; returns where its value's characters start.</summary>
        private int WriteDeliveryId(string deliveryId)
        {
            Begin();
            output.Write("\"kiteflow_delivery_id\":"u8);
            _comma = true;
            if (!IsPlain(deliveryId))
            {
                // Ids are made of a run key and a position; anything else is escaped like any string.
                (t_escaper ??= new Escaper()).Write(output, deliveryId);
                return output.WrittenCount - _start - 1 - deliveryId.Length;
            }

            output.Write("\""u8);
            var at = output.WrittenCount - _start;
            var span = output.GetSpan(deliveryId.Length + 1);
            for (var i = 0; i < deliveryId.Length; i++)
            {
                span[i] = (byte)deliveryId[i];
            }

            span[deliveryId.Length] = (byte)'"';
            output.Advance(deliveryId.Length + 1);
            return at;
        }

        private static bool IsPlain(string text)
        {
            foreach (var c in text)
            {
                if (c is < ' ' or > '~' or '"' or '\\')
                {
                    return false;
                }
            }

            return true;
        }

        private void Begin()
        {
            if (_comma)
            {
                output.Write(","u8);
            }
        }
    }

    /// <summary>Decodes a string that holds escapes and writes it again as <see cref="MinimalJsonEncoder"/> escapes it.</summary>
    private sealed class Escaper
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(256);
        private readonly Utf8JsonWriter _writer;
        private byte[] _unescaped = new byte[256];

        public Escaper() => _writer = new Utf8JsonWriter(_buffer, MinimalJsonEncoder.CompactWriterOptions);

        public void Write(ArrayBufferWriter<byte> output, ref Utf8JsonReader reader)
        {
            if (_unescaped.Length < reader.ValueSpan.Length)
            {
                _unescaped = new byte[reader.ValueSpan.Length];
            }

            var length = reader.CopyString(_unescaped);
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStringValue(_unescaped.AsSpan(0, length));
            _writer.Flush();
            output.Write(_buffer.WrittenSpan);
        }

        public void Write(ArrayBufferWriter<byte> output, string value)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStringValue(value);
            _writer.Flush();
            output.Write(_buffer.WrittenSpan);
        }
    }
}
