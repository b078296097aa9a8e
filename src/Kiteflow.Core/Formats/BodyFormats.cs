using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Xml;
using Kiteflow.Core.Json;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Formats;

/// <summary>
/// Converts a body built as JSON (a record, or a batch as an array or object) into the destination's
/// content format (SPEC §2.2). JSON bodies pass through untouched, numbers keeping their exact text.
/// </summary>
internal static class BodyFormats
{
    /// <summary>The Content-Type Kiteflow sends for <paramref name="format"/>.</summary>
    public static string ContentType(ContentFormat format) => format switch
    {
        ContentFormat.Json => "application/json",
        ContentFormat.Ndjson => "application/x-ndjson",
        ContentFormat.Xml => "application/xml",
        ContentFormat.Form => "application/x-www-form-urlencoded",
        ContentFormat.Csv => "text/csv",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Writes <paramref name="json"/> (valid JSON) in <paramref name="format"/>; for JSON the same array is returned.</summary>
    public static byte[] Convert(ContentFormat format, byte[] json) => format == ContentFormat.Json ? json : Convert(format, (ReadOnlySpan<byte>)json);

    /// <summary>Writes <paramref name="json"/> (valid JSON) in <paramref name="format"/>.</summary>
    public static byte[] Convert(ContentFormat format, ReadOnlySpan<byte> json)
    {
        if (format == ContentFormat.Json)
        {
            return json.ToArray();
        }

        var rented = ArrayPool<byte>.Shared.Rent(json.Length);
        try
        {
            json.CopyTo(rented);
            using var document = JsonDocument.Parse(rented.AsMemory(0, json.Length), new JsonDocumentOptions { MaxDepth = 128 });
            var root = document.RootElement;
            return format switch
            {
                ContentFormat.Ndjson => Ndjson(root),
                ContentFormat.Xml => Xml(root),
                ContentFormat.Form => Encoding.UTF8.GetBytes(Form(root)),
                ContentFormat.Csv => Encoding.UTF8.GetBytes(Csv(root)),
                _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
            };
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>One compact JSON value per line: each item of an array, or the one object.</summary>
    private static byte[] Ndjson(JsonElement root)
    {
        var buffer = new ArrayBufferWriter<byte>();
        IEnumerable<JsonElement> lines = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray() : [root];
        foreach (var line in lines)
        {
            using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
            {
                line.WriteTo(writer);
            }

            buffer.Write("\n"u8);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// An object becomes <c>&lt;record&gt;</c> with an element per attribute; an array becomes
    /// <c>&lt;records&gt;</c> with a <c>&lt;record&gt;</c> per item; nested arrays hold <c>&lt;item&gt;</c>s.
    /// Attribute names that are not XML names are encoded with <see cref="XmlConvert.EncodeLocalName"/>.
    /// </summary>
    private static byte[] Xml(JsonElement root)
    {
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false }))
        {
            writer.WriteStartDocument();
            if (root.ValueKind == JsonValueKind.Array)
            {
                writer.WriteStartElement("records");
                foreach (var item in root.EnumerateArray())
                {
                    XmlElement(writer, "record", item);
                }

                writer.WriteEndElement();
            }
            else
            {
                XmlElement(writer, "record", root);
            }

            writer.WriteEndDocument();
        }

        return stream.ToArray();
    }

    private static void XmlElement(XmlWriter writer, string name, JsonElement value)
    {
        writer.WriteStartElement(XmlConvert.EncodeLocalName(name));
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    XmlElement(writer, property.Name, property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    XmlElement(writer, "item", item);
                }

                break;
            case JsonValueKind.String:
                writer.WriteString(value.GetString());
                break;
            case JsonValueKind.Null:
                break;
            default:
                writer.WriteString(value.GetRawText());
                break;
        }

        writer.WriteEndElement();
    }

    /// <summary>Rails bracket form: <c>author[name]=Ann&amp;labels[]=a&amp;builds[][commit]=…</c>. A top-level array is sent as <c>records[]</c>.</summary>
    private static string Form(JsonElement root)
    {
        var builder = new StringBuilder();
        if (root.ValueKind == JsonValueKind.Array)
        {
            FormValue(builder, "records[]", root, isArrayItem: false);
        }
        else
        {
            foreach (var property in root.EnumerateObject())
            {
                FormValue(builder, FormKey(property.Name), property.Value, isArrayItem: false);
            }
        }

        return builder.ToString();
    }

    private static void FormValue(StringBuilder builder, string key, JsonElement value, bool isArrayItem)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    FormValue(builder, $"{key}[{FormKey(property.Name)}]", property.Value, isArrayItem: false);
                }

                break;
            case JsonValueKind.Array when !isArrayItem:
                var arrayKey = key.EndsWith("[]", StringComparison.Ordinal) ? key : key + "[]";
                foreach (var item in value.EnumerateArray())
                {
                    FormValue(builder, arrayKey, item, isArrayItem: true);
                }

                break;
            default:
                if (builder.Length > 0)
                {
                    builder.Append('&');
                }

                builder.Append(key).Append('=');
                var text = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString()!,
                    JsonValueKind.Null => string.Empty,
                    JsonValueKind.Array => value.GetRawText(),  // an array inside an array has no Rails form
                    _ => value.GetRawText(),
                };
                builder.Append(Uri.EscapeDataString(text).Replace("%20", "+", StringComparison.Ordinal));
                break;
        }
    }

    private static string FormKey(string name) => Uri.EscapeDataString(name);

    /// <summary>A header row of dotted attribute paths (first-seen order), then a row per record; arrays are written as JSON text.</summary>
    private static string Csv(JsonElement root)
    {
        var rows = new List<Dictionary<string, string>>();
        var columns = new List<string>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<JsonElement> items = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray() : [root];
        foreach (var item in items)
        {
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            if (item.ValueKind == JsonValueKind.Object)
            {
                Flatten(item, string.Empty, row, columns, known);
            }
            else
            {
                AddCell("value", CsvText(item), row, columns, known);
            }

            rows.Add(row);
        }

        var builder = new StringBuilder();
        builder.AppendJoin(',', columns.Select(Quote)).Append("\r\n");
        foreach (var row in rows)
        {
            builder.AppendJoin(',', columns.Select(c => row.TryGetValue(c, out var v) ? Quote(v) : string.Empty)).Append("\r\n");
        }

        return builder.ToString();
    }

    private static void Flatten(JsonElement value, string prefix, Dictionary<string, string> row, List<string> columns, HashSet<string> known)
    {
        foreach (var property in value.EnumerateObject())
        {
            var path = prefix + property.Name;
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                Flatten(property.Value, path + ".", row, columns, known);
            }
            else
            {
                AddCell(path, CsvText(property.Value), row, columns, known);
            }
        }
    }

    private static void AddCell(string column, string text, Dictionary<string, string> row, List<string> columns, HashSet<string> known)
    {
        if (known.Add(column))
        {
            columns.Add(column);
        }

        row[column] = text;
    }

    private static string CsvText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Null => string.Empty,
        JsonValueKind.Array or JsonValueKind.Object => JsonText.Compact(value),
        _ => value.GetRawText(),
    };

    private static string Quote(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (text.Length > 0 && (text[0] == ' ' || text[^1] == ' '))
            ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : text;
}
