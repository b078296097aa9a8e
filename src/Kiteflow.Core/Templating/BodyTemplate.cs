using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Templating;

/// <summary>
/// A compiled body template (SPEC §2.5b, setting <c>bodyTemplate</c>): a JSON value whose strings may
/// use the URL's macros. Each record's body is the template filled from that record. A string that is
/// exactly one macro keeps the attribute's JSON type (its exact text, for numbers); a string mixing text
/// and macros gets each value as text. Compiled once into a tree whose macro-free parts are written
/// out in advance, so filling is a walk that copies bytes and looks attributes up.
/// </summary>
internal sealed class BodyTemplate
{
    /// <summary>The key problems are reported under.</summary>
    public const string Key = "bodyTemplate";

    /// <summary>
    /// How deep a filled body may nest, as deep as an input record may: every reader of a body
    /// (the preview, the catalog check, the formats) can then take it.
    /// </summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions ParseOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private readonly Node _root;

    private BodyTemplate(Node root, JsonValueKind? kind)
    {
        _root = root;
        Kind = kind;
    }

    /// <summary>
    /// The JSON kind every filled body has (an object for <c>{"body": …}</c>); null when the template is
    /// one macro (<c>"{response.body}"</c>), whose kind depends on the record.
    /// </summary>
    public JsonValueKind? Kind { get; }

    /// <summary>Compiles <paramref name="json"/> (the setting's JSON text), adding a problem for each bad macro, brace or key.</summary>
    public static BodyTemplate? Compile(string json, List<SettingsProblem> problems)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, ParseOptions);
        }
        catch (JsonException e)
        {
            problems.Add(new SettingsProblem(Key, $"The template is not valid JSON ({e.Message}); write a JSON value such as {{\"body\": \"Deployed {{commit}}\"}}."));
            return null;
        }

        using (document)
        {
            try
            {
                return Compile(document.RootElement, problems);
            }
            catch (InvalidOperationException)
            {
                // JSON lets a string escape half of a surrogate pair (\ud800), which is no text at all.
                problems.Add(new SettingsProblem(Key, "The template holds a \\u escape that is half of a surrogate pair, which is not text; write the character itself or both halves."));
                return null;
            }
        }
    }

    private static BodyTemplate? Compile(JsonElement root, List<SettingsProblem> problems)
    {
        if (root.ValueKind == JsonValueKind.String && LooksLikeJsonText(root.GetString()!))
        {
            problems.Add(new SettingsProblem(Key, "The template is a string that holds JSON text; write the JSON value itself, without the surrounding quotes, e.g. \"bodyTemplate\": {\"body\": \"Deployed {commit}\"}."));
            return null;
        }

        var before = problems.Count;
        var node = CompileNode(root, Key, 0, problems);
        return problems.Count > before ? null : new BodyTemplate(node, node is Slot ? null : root.ValueKind);
    }

    /// <summary>
    /// Writes the body for <paramref name="record"/>. Returns null when it is written, or why the record
    /// cannot make a body (naming the macro); the writer then holds part of a body, to be discarded.
    /// </summary>
    /// <param name="writer">Where the body goes.</param>
    /// <param name="record">The record the macros read.</param>
    /// <param name="clock">What <c>{now}</c> writes.</param>
    /// <param name="text">Scratch space for strings that mix text and macros; its content is replaced.</param>
    public string? Write(Utf8JsonWriter writer, JsonElement record, TemplateClock clock, ArrayBufferWriter<char> text) =>
        _root.Write(writer, new Context(record, clock, text));

    private static Node CompileNode(JsonElement element, string key, int depth, List<SettingsProblem> problems)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var properties = new List<(JsonEncodedText Name, Node Value)>();
                foreach (var property in element.EnumerateObject())
                {
                    var childKey = key + "." + property.Name;
                    var errors = new List<string>();
                    var nameParts = TemplateParts.Split(property.Name, errors, braceEscapes: true);
                    foreach (var error in errors)
                    {
                        problems.Add(new SettingsProblem(childKey, $"In the name \"{property.Name}\": {error}"));
                    }

                    if (nameParts.Exists(p => p.Macro is not null))
                    {
                        problems.Add(new SettingsProblem(childKey, $"The name \"{property.Name}\" holds a macro; macros fill values, names are written as they are. Write {{{{ and }}}} for a literal brace."));
                    }

                    var name = string.Concat(nameParts.Select(p => p.Literal));
                    properties.Add((JsonEncodedText.Encode(name, MinimalJsonEncoder.Instance), CompileNode(property.Value, childKey, depth + 1, problems)));
                }

                var container = new ObjectNode([.. properties]);
                return properties.TrueForAll(p => p.Value is Constant) ? Constant.Of(container) : container;
            }

            case JsonValueKind.Array:
            {
                var items = new List<Node>();
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    items.Add(CompileNode(item, $"{key}[{index++}]", depth + 1, problems));
                }

                var container = new ArrayNode([.. items]);
                return items.TrueForAll(i => i is Constant) ? Constant.Of(container) : container;
            }

            case JsonValueKind.String:
            {
                var errors = new List<string>();
                var parts = TemplateParts.Split(element.GetString()!, errors, braceEscapes: true);
                foreach (var error in errors)
                {
                    problems.Add(new SettingsProblem(key, $"In \"{Shorten(element.GetString()!)}\": {error}"));
                }

                if (parts.Count == 1 && parts[0].Macro is { } macro)
                {
                    return new Slot(macro, macro.Default is { } fallback ? DefaultJson(fallback) : null, depth);
                }

                if (!parts.Exists(p => p.Macro is not null))
                {
                    return new Constant(Constant.Render((writer, literal) => writer.WriteStringValue(literal), string.Concat(parts.Select(p => p.Literal))));
                }

                return new Text([.. parts]);
            }

            default:
                // Numbers (their exact text), true, false, null.
                return Constant.Of(element);
        }
    }

    /// <summary>
    /// The default of a whole-string macro as JSON: a number, <c>true</c>, <c>false</c> or <c>null</c>
    /// keeps that type (<c>"{priority=3}"</c> is 3 when the record has no priority); any other default is a string.
    /// </summary>
    private static byte[] DefaultJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null
                && document.RootElement.GetRawText() == text)
            {
                return System.Text.Encoding.UTF8.GetBytes(text);
            }
        }
        catch (JsonException)
        {
            // Not JSON: a string.
        }

        return Constant.Render((writer, value) => writer.WriteStringValue(value), text);
    }

    private static bool LooksLikeJsonText(string text)
    {
        var trimmed = text.AsSpan().Trim();
        if (trimmed.Length < 2 || !(trimmed[0] is '{' or '['))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    /// <summary>What filling one body reads.</summary>
    private readonly record struct Context(JsonElement Record, TemplateClock Clock, ArrayBufferWriter<char> Text);

    /// <summary>A part of the template.</summary>
    private abstract class Node
    {
        public abstract string? Write(Utf8JsonWriter writer, in Context context);
    }

    /// <summary>A part with no macro, written out once at compile time.</summary>
    private sealed class Constant(byte[] json) : Node
    {
        /// <summary>A container whose every part is constant, written out whole.</summary>
        public static Constant Of(Node node) => new(Render((writer, n) => n.Write(writer, default), node));

        public static Constant Of(JsonElement element) => new(Render((writer, e) => e.WriteTo(writer), element));

        public static byte[] Render<T>(Action<Utf8JsonWriter, T> write, T state)
        {
            var buffer = new ArrayBufferWriter<byte>(64);
            using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
            {
                write(writer, state);
            }

            return buffer.WrittenSpan.ToArray();
        }

        public override string? Write(Utf8JsonWriter writer, in Context context)
        {
            writer.WriteRawValue(json, skipInputValidation: true);
            return null;
        }
    }

    private sealed class ObjectNode((JsonEncodedText Name, Node Value)[] properties) : Node
    {
        public override string? Write(Utf8JsonWriter writer, in Context context)
        {
            writer.WriteStartObject();
            foreach (var (name, value) in properties)
            {
                writer.WritePropertyName(name);
                if (value.Write(writer, context) is { } problem)
                {
                    return problem;
                }
            }

            writer.WriteEndObject();
            return null;
        }
    }

    private sealed class ArrayNode(Node[] items) : Node
    {
        public override string? Write(Utf8JsonWriter writer, in Context context)
        {
            writer.WriteStartArray();
            foreach (var item in items)
            {
                if (item.Write(writer, context) is { } problem)
                {
                    return problem;
                }
            }

            writer.WriteEndArray();
            return null;
        }
    }

    /// <summary>A string that is exactly one macro: the attribute's JSON value as it is, whatever its type.</summary>
    /// <param name="macro">The macro.</param>
    /// <param name="defaultJson">The default as JSON, if there is one.</param>
    /// <param name="depth">How many objects and arrays of the template hold the slot.</param>
    private sealed class Slot(Macro macro, byte[]? defaultJson, int depth) : Node
    {
        public override string? Write(Utf8JsonWriter writer, in Context context)
        {
            if (macro.NowOffset is { } offset)
            {
                writer.WriteStringValue(context.Clock.Format(offset));
                return null;
            }

            if (macro.TryFind(context.Record, out var value) && !(value.ValueKind == JsonValueKind.Null && defaultJson is not null))
            {
                // JSON null stays null here, unless a default is given: the attribute's type is kept.
                if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array && !Fits(value, MaxDepth - depth))
                {
                    return $"{macro.Text}: the attribute '{string.Join('.', macro.Path)}' inserted here would nest the body deeper than {MaxDepth} levels; insert a part of it, or place the macro nearer the top of the template.";
                }

                value.WriteTo(writer);
                return null;
            }

            if (defaultJson is null)
            {
                return macro.MissingReason();
            }

            writer.WriteRawValue(defaultJson, skipInputValidation: true);
            return null;
        }
    }

    /// <summary>Whether <paramref name="value"/> nests at most <paramref name="levels"/> objects and arrays deep; stops at the first that is too deep.</summary>
    private static bool Fits(JsonElement value, int levels)
    {
        if (levels <= 0)
        {
            return false;
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array && !Fits(property.Value, levels - 1))
                {
                    return false;
                }
            }
        }
        else
        {
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind is JsonValueKind.Object or JsonValueKind.Array && !Fits(item, levels - 1))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>A string of literal text and macros: each value goes in as text.</summary>
    private sealed class Text(TemplateParts.Part[] parts) : Node
    {
        public override string? Write(Utf8JsonWriter writer, in Context context)
        {
            var text = context.Text;
            text.ResetWrittenCount();
            foreach (var part in parts)
            {
                if (part.Literal is { } literal)
                {
                    text.Write(literal);
                }
                else if (Resolve(part.Macro!, context, out var reason) is { } value)
                {
                    text.Write(value);
                }
                else
                {
                    return reason;
                }
            }

            writer.WriteStringValue(text.WrittenSpan);
            return null;
        }

        private static string? Resolve(Macro macro, in Context context, out string? reason)
        {
            reason = null;
            if (macro.NowOffset is { } offset)
            {
                return context.Clock.Format(offset);
            }

            if (!macro.TryFind(context.Record, out var value))
            {
                reason = macro.Default is null ? macro.MissingReason() : null;
                return macro.Default;
            }

            switch (value.ValueKind)
            {
                case JsonValueKind.Null:
                    reason = macro.Default is null ? macro.NullReason() : null;
                    return macro.Default;
                case JsonValueKind.Object or JsonValueKind.Array:
                    reason = $"{macro.Text}: the attribute '{string.Join('.', macro.Path)}' is {RecordParser.KindName(value.ValueKind)}, which cannot go inside text; make the string exactly \"{macro.Text}\" to insert it as JSON.";
                    return null;
                default:
                    return Macro.AsText(value);
            }
        }
    }
}
