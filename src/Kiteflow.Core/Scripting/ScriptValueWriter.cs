using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Kiteflow.Core.Json;

namespace Kiteflow.Core.Scripting;

/// <summary>
/// Writes what a batching script returned as JSON, as <c>JSON.stringify</c> would (<c>toJSON</c>,
/// enumerable own string keys in order, functions and <c>undefined</c> left out of objects and
/// <c>null</c> in arrays, non-finite numbers as <c>null</c>), but with an explicit stack instead of
/// recursion, so a value nested 50,000 deep cannot overflow the .NET stack, and with limits on depth and
/// size checked as it goes. Runs inside the script's call, so getters and <c>toJSON</c> count against the
/// script's own limits.
/// </summary>
internal sealed class ScriptValueWriter
{
    private readonly ObjectInstance[] _boxedPrototypes;
    private readonly Jint.Native.Json.JsonSerializer _leaves;
    private readonly int _maxDepth;
    private readonly List<Frame> _frames = [];
    private int _depth;

    public ScriptValueWriter(Engine engine, int maxDepth)
    {
        _maxDepth = maxDepth;
        _leaves = new Jint.Native.Json.JsonSerializer(engine);

        // Boxed primitives (new Number(1)) serialize as their value; Jint's own serializer knows how,
        // and they hold nothing to recurse into.
        _boxedPrototypes = [.. new[] { "Number", "String", "Boolean", "BigInt" }.Select(name => engine.Evaluate($"{name}.prototype").AsObject())];
    }

    /// <summary>
    /// Writes <paramref name="value"/> to <paramref name="buffer"/> as compact JSON.
    /// </summary>
    /// <exception cref="ScriptOutputException">The value is nested too deep, holds a cycle, or its JSON would pass <paramref name="maxBytes"/>.</exception>
    public void Write(JsValue value, ArrayBufferWriter<byte> buffer, long maxBytes)
    {
        _frames.Clear();
        _depth = 0;
        var limit = new Limit(maxBytes);
        using var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions);
        var root = Prepare(value, JsString.Empty);
        if (!IsSerializable(root))
        {
            throw new ScriptOutputException("batch() returned a value JSON cannot hold (a function or a symbol); return an object, an array or a string.");
        }

        WriteValue(writer, root, limit);
        while (_depth > 0)
        {
            var frame = _frames[_depth - 1];
            if (frame.Index >= frame.Length)
            {
                if (frame.IsArray)
                {
                    writer.WriteEndArray();
                }
                else
                {
                    writer.WriteEndObject();
                }

                frame.Release();
                _depth--;
                continue;
            }

            var index = frame.Index++;
            if (frame.IsArray)
            {
                var key = JsNumber.Create((double)index);
                var item = Prepare(frame.Target!.Get(key), key);
                if (IsSerializable(item))
                {
                    WriteValue(writer, item, limit);
                }
                else
                {
                    writer.WriteNullValue();
                }
            }
            else
            {
                var key = frame.Keys![(int)index];
                var item = Prepare(frame.Target!.Get(key), key);
                if (IsSerializable(item))
                {
                    var name = key.ToString();
                    limit.Check(writer, name.Length);
                    WritePropertyName(writer, name);
                    WriteValue(writer, item, limit);
                }
            }

            limit.Check(writer, 0);
        }

        writer.Flush();
        limit.Check(writer, 0);
    }

    /// <summary>Applies <c>toJSON</c>, as <c>JSON.stringify</c> does before looking at a value.</summary>
    private static JsValue Prepare(JsValue value, JsValue key)
    {
        if (value is ObjectInstance target && target.Get("toJSON") is var toJson && toJson.IsCallable())
        {
            return target.Engine.Call(toJson, target, [key]);
        }

        return value;
    }

    private static bool IsSerializable(JsValue value) =>
        !(value.IsUndefined() || value.IsSymbol() || value.IsCallable());

    private void WriteValue(Utf8JsonWriter writer, JsValue value, Limit limit)
    {
        switch (value)
        {
            case JsString text:
                var s = text.ToString();
                limit.Check(writer, s.Length);
                WriteString(writer, s);
                return;
            case JsNumber number:
                var n = number.AsNumber();
                if (double.IsFinite(n))
                {
                    writer.WriteRawValue(TypeConverter.ToString(value), skipInputValidation: true);
                }
                else
                {
                    writer.WriteNullValue();
                }

                return;
            case JsBoolean:
                writer.WriteBooleanValue(value.AsBoolean());
                return;
            case JsNull:
                writer.WriteNullValue();
                return;
            case ObjectInstance target when Array.IndexOf(_boxedPrototypes, target.Prototype) >= 0:
                var leaf = _leaves.Serialize(target, JsValue.Undefined, JsValue.Undefined).ToString();
                limit.Check(writer, leaf.Length);
                writer.WriteRawValue(leaf, skipInputValidation: false);
                return;
            case ObjectInstance target:
                Open(writer, target);
                return;
            default:
                // BigInt: JSON has no such value, and JSON.stringify throws for it too.
                throw new ScriptOutputException($"batch() returned a {value.Type.ToString().ToLowerInvariant()} value, which JSON cannot hold; convert it to a number or a string.");
        }
    }

    private void Open(Utf8JsonWriter writer, ObjectInstance target)
    {
        if (_depth >= _maxDepth)
        {
            throw new ScriptOutputException($"batch() returned a value nested deeper than {_maxDepth} levels; flatten it.");
        }

        for (var i = 0; i < _depth; i++)
        {
            if (ReferenceEquals(_frames[i].Target, target))
            {
                throw new ScriptOutputException("batch() returned a value that contains itself (a cycle); return plain data.");
            }
        }

        if (_frames.Count == _depth)
        {
            _frames.Add(new Frame());
        }

        var frame = _frames[_depth++];
        frame.Target = target;
        frame.Index = 0;
        frame.IsArray = target.IsArray();
        if (frame.IsArray)
        {
            frame.Length = TypeConverter.ToLength(target.Get("length"));
            writer.WriteStartArray();
            return;
        }

        var keys = frame.Keys ??= [];
        keys.Clear();
        foreach (var key in target.GetOwnPropertyKeys(Types.String))
        {
            if (target.GetOwnProperty(key) is { Enumerable: true })
            {
                keys.Add(key);
            }
        }

        frame.Length = (ulong)keys.Count;
        writer.WriteStartObject();
    }

    private static void WriteString(Utf8JsonWriter writer, string text)
    {
        try
        {
            writer.WriteStringValue(text);
        }
        catch (ArgumentException)
        {
            throw new ScriptOutputException(LoneSurrogate);
        }
    }

    private static void WritePropertyName(Utf8JsonWriter writer, string name)
    {
        try
        {
            writer.WritePropertyName(name);
        }
        catch (ArgumentException)
        {
            throw new ScriptOutputException(LoneSurrogate);
        }
    }

    private const string LoneSurrogate = "batch() returned text that is not valid Unicode (half of a surrogate pair); check how the strings are cut.";

    /// <summary>The byte ceiling: checked before a string is written and after every value.</summary>
    private readonly struct Limit(long maxBytes)
    {
        /// <summary>Throws when what is written, plus at least <paramref name="more"/> bytes to come, passes the ceiling.</summary>
        public void Check(Utf8JsonWriter writer, long more)
        {
            if (writer.BytesCommitted + writer.BytesPending + more > maxBytes)
            {
                throw new ScriptOutputException(string.Create(CultureInfo.InvariantCulture, $"batch() returned a body larger than batching.maxBatchBytes ({maxBytes:N0} bytes); return less per batch, use a smaller batchSize, or raise the limit."));
            }
        }
    }

    /// <summary>An array or object being written: what is left of it.</summary>
    private sealed class Frame
    {
        public ObjectInstance? Target;
        public bool IsArray;
        public ulong Length;
        public ulong Index;
        public List<JsValue>? Keys;

        public void Release()
        {
            Target = null;
            Keys?.Clear();
        }
    }
}

/// <summary>A batching script's value that cannot become a body; its message is the user's.</summary>
internal sealed class ScriptOutputException(string message) : Exception(message);
