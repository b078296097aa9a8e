using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Shaping;

namespace Kiteflow.Core.Catalog;

/// <summary>
/// Checks a request body against an endpoint's <see cref="ObjectSchema"/>. Walks the <see cref="JsonElement"/>
/// directly and compares UTF-8 bytes, so a body that passes allocates nothing: lists, paths and messages are made
/// only when there is something to report.
/// </summary>
internal static class BodyValidator
{
    /// <summary>The field name used when the body as a whole is wrong.</summary>
    public const string WholeBody = "(body)";

    private const int ExcerptLength = 40;

    /// <param name="endpoint">The endpoint the body goes to.</param>
    /// <param name="body">The body, or the record it is shaped from.</param>
    /// <param name="excluded">Attribute paths left out of the body as sent: they are judged as absent.</param>
    public static BodyCheck Check(EndpointDefinition endpoint, JsonElement body, ExclusionTree? excluded = null)
    {
        var collector = new Collector(endpoint);
        switch (body.ValueKind)
        {
            case JsonValueKind.Undefined:
                // No body at all: fine where none is taken; elsewhere each required field is reported missing,
                // which says more than "the body is missing".
                if (endpoint.TakesBody)
                {
                    ReportMissing(endpoint.Body, 0, null, ref collector);
                }

                break;
            case JsonValueKind.Object:
                CheckObject(endpoint.Body, body, null, ref collector, excluded);
                break;
            default:
                collector.Error(WholeBody, NotAnObject(endpoint, body));
                break;
        }

        return collector.ToResult();
    }

    private static void CheckObject(ObjectSchema schema, JsonElement element, string? parent, ref Collector collector, ExclusionTree? excluded)
    {
        ulong seen = 0;
        foreach (var property in element.EnumerateObject())
        {
            var exclusion = excluded?.Find(property);
            if (exclusion is { IsLeaf: true })
            {
                continue;  // not sent, so not judged
            }

            var index = schema.IndexOf(property);
            if (index < 0)
            {
                collector.Unknown(parent is null ? property.Name : parent + "." + property.Name);
                continue;
            }

            var field = schema.Fields[index];
            var value = property.Value;
            var path = FieldPath.Of(parent, field.Name);
            if (value.ValueKind == JsonValueKind.Null)
            {
                // Null stands for "not given" (Buildkite documents null as "unset" for several fields), so it is
                // fine for an optional field, but does not satisfy a required one or a required group.
                if (field.IsRequired)
                {
                    seen |= 1UL << index;
                    collector.Error(path.ToString(), $"`{path}` is null, but {collector.Endpoint.Id} requires a value; give it {Describe(field)}{Details(field)}.");
                }

                continue;
            }

            seen |= 1UL << index;
            if (field.RefusedBecause is not null)
            {
                collector.Error(path.ToString(), $"`{path}` cannot be sent to {collector.Endpoint.Id}: {field.RefusedBecause}.");
                continue;
            }

            CheckValue(field, value, path, ref collector, exclusion);
        }

        ReportMissing(schema, seen, parent, ref collector);
    }

    private static void ReportMissing(ObjectSchema schema, ulong seen, string? parent, ref Collector collector)
    {
        var missing = schema.RequiredMask & ~seen;
        while (missing != 0)
        {
            var field = schema.Fields[BitOperations.TrailingZeroCount(missing)];
            missing &= missing - 1;
            var path = FieldPath.Of(parent, field.Name).ToString();
            collector.Error(path, $"`{path}` is missing: {collector.Endpoint.Id} requires it; add {Describe(field)}{Details(field)}.");
        }

        if (schema.OneOfRequired is { } group && (seen & schema.OneOfRequiredMask) == 0)
        {
            var path = FieldPath.Of(parent, group.ReportedField).ToString();
            collector.Error(path, $"`{path}` is missing: {collector.Endpoint.Id} needs {group.WhatToDo}.");
        }
    }

    private static void CheckValue(FieldSpec field, JsonElement value, FieldPath path, ref Collector collector, ExclusionTree? excluded = null)
    {
        if (!Accepts(field.Kinds, value))
        {
            collector.Error(path.ToString(), $"`{path}` must be {Describe(field)}, but it is {Actual(value)}; {HowToSend(field.Kinds)}.");
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                CheckString(field, value, path, ref collector);
                break;
            case JsonValueKind.Number:
                CheckRange(field, value, path, ref collector);
                break;
            case JsonValueKind.Object:
                if (field.Properties is { } properties)
                {
                    CheckObject(properties, value, path.ToString(), ref collector, excluded);
                }
                else if (field.Values is { } values)
                {
                    var parent = path.ToString();
                    foreach (var entry in value.EnumerateObject())
                    {
                        var exclusion = excluded?.Find(entry);
                        if (entry.Value.ValueKind != JsonValueKind.Null && exclusion is not { IsLeaf: true })
                        {
                            CheckValue(values, entry.Value, FieldPath.OfKey(parent, entry), ref collector, exclusion);
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                if (field.Items is { } items)
                {
                    var parent = path.ToString();
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Null)
                        {
                            CheckValue(items, item, FieldPath.OfItem(parent, index), ref collector);
                        }

                        index++;
                    }
                }

                break;
        }
    }

    private static void CheckString(FieldSpec field, JsonElement value, FieldPath path, ref Collector collector)
    {
        if (field.AllowedValuesUtf8 is null && field.MaxUtf8Bytes is null && field.MaxLength is null
            && field.Format is null && !field.MustNotBeBlank)
        {
            return;
        }

        // The raw bytes between the quotes are the value itself unless it holds an escape (rare): then decode.
        var raw = JsonMarshal.GetRawUtf8Value(value)[1..^1];
        var escaped = raw.IndexOf((byte)'\\') >= 0;
        var endpoint = collector.Endpoint.Id;

        if (field.AllowedValuesUtf8 is { } allowed)
        {
            if (field.IsCommaList)
            {
                var text = escaped ? Encoding.UTF8.GetBytes(value.GetString()!) : raw;
                var rest = text;
                while (!rest.IsEmpty)
                {
                    var comma = rest.IndexOf((byte)',');
                    var token = comma < 0 ? rest : rest[..comma];
                    rest = comma < 0 ? [] : rest[(comma + 1)..];
                    token = token[Ascii.Trim(token)];
                    if (!token.IsEmpty && !IsOneOf(token, allowed))
                    {
                        collector.Error(path.ToString(), $"`{path}` lists \"{Excerpt(Encoding.UTF8.GetString(token))}\", which {endpoint} does not accept; use a comma-separated list of {string.Join(", ", field.AllowedValues!)}.");
                        return;
                    }
                }
            }
            else if (!IsOneOf(value, allowed))
            {
                collector.Error(path.ToString(), $"`{path}` is \"{Excerpt(value.GetString()!)}\", which {endpoint} does not accept; use one of {string.Join(", ", field.AllowedValues!)}.");
                return;
            }
        }

        if (field.MustNotBeBlank && (escaped ? string.IsNullOrWhiteSpace(value.GetString()) : raw[Ascii.Trim(raw)].IsEmpty))
        {
            collector.Error(path.ToString(), $"`{path}` is blank, but {endpoint} needs it to hold {field.Hint ?? "a value"}; fill it in.");
            return;
        }

        if (field.Format is { } format && !format.IsValid(escaped ? Encoding.UTF8.GetBytes(value.GetString()!) : raw))
        {
            collector.Error(path.ToString(), $"`{path}` is \"{Excerpt(value.GetString()!)}\", which is not a valid {format.Name}; use {format.Description}.");
            return;
        }

        if (field.MaxLength is { } maxLength)
        {
            var length = escaped ? value.GetString()!.Length : Encoding.UTF8.GetCharCount(raw);
            if (length > maxLength)
            {
                collector.Error(path.ToString(), $"`{path}` is {Count(length)} characters long, over {endpoint}'s limit of {Count(maxLength)}; shorten it.");
                return;
            }
        }

        // Escapes only lengthen the raw text, so a raw length within the limit needs no decoding.
        if (field.MaxUtf8Bytes is { } maxBytes && raw.Length > maxBytes)
        {
            var bytes = escaped ? Encoding.UTF8.GetByteCount(value.GetString()!) : raw.Length;
            if (bytes > maxBytes)
            {
                collector.Error(path.ToString(), $"`{path}` is {Count(bytes)} bytes of UTF-8, over {endpoint}'s limit of {Count(maxBytes)} bytes{Binary(maxBytes)}; shorten it.");
            }
        }
    }

    private static void CheckRange(FieldSpec field, JsonElement value, FieldPath path, ref Collector collector)
    {
        if (field.Minimum is null && field.Maximum is null)
        {
            return;
        }

        if (TryGetWhole(value, out var number)
            && (field.Minimum is not { } min || number >= min)
            && (field.Maximum is not { } max || number <= max))
        {
            return;
        }

        var range = (field.Minimum, field.Maximum) switch
        {
            ({ } low, { } high) => $"an integer from {Count(low)} to {Count(high)}",
            ({ } low, null) => $"an integer of at least {Count(low)}",
            (null, { } high) => $"an integer of at most {Count(high)}",
            _ => "an integer",
        };
        collector.Error(path.ToString(), $"`{path}` is {value.GetRawText()}, which {collector.Endpoint.Id} does not accept; use {range}.");
    }

    private static bool Accepts(JsonKinds kinds, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => (kinds & JsonKinds.String) != 0,
        JsonValueKind.Number => (kinds & JsonKinds.Number) != 0 || ((kinds & JsonKinds.Integer) != 0 && IsWhole(value)),
        JsonValueKind.True or JsonValueKind.False => (kinds & JsonKinds.Boolean) != 0,
        JsonValueKind.Object => (kinds & JsonKinds.Object) != 0,
        JsonValueKind.Array => (kinds & JsonKinds.Array) != 0,
        _ => false,
    };

    // 5 and 5.0 are both whole (Buildkite casts either to 5); 5.5 is not.
    private static bool IsWhole(JsonElement value)
    {
        if (value.TryGetInt64(out _))
        {
            return true;
        }

        if (value.TryGetDecimal(out var exact))
        {
            return exact == decimal.Truncate(exact);
        }

        return value.TryGetDouble(out var approximate) && double.IsFinite(approximate) && approximate == Math.Floor(approximate);
    }

    private static bool TryGetWhole(JsonElement value, out long number)
    {
        if (value.TryGetInt64(out number))
        {
            return true;
        }

        if (value.TryGetDecimal(out var exact) && exact == decimal.Truncate(exact) && exact >= long.MinValue && exact <= long.MaxValue)
        {
            number = (long)exact;
            return true;
        }

        return false;
    }

    private static bool IsOneOf(JsonElement value, byte[][] allowed)
    {
        foreach (var candidate in allowed)
        {
            if (value.ValueEquals(candidate))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsOneOf(ReadOnlySpan<byte> value, byte[][] allowed)
    {
        foreach (var candidate in allowed)
        {
            if (value.SequenceEqual(candidate))
            {
                return true;
            }
        }

        return false;
    }

    private static string NotAnObject(EndpointDefinition endpoint, JsonElement body) => body.ValueKind == JsonValueKind.Array
        ? $"The body is a JSON array, but {endpoint.Id} takes one {endpoint.Noun} per call, as a JSON object; turn record batching off so each request carries one record."
        : $"The body is {Actual(body)}, but {endpoint.Id} takes a JSON object; send one {endpoint.Noun} per call as a JSON object.";

    /// <summary>The JSON type(s) a field takes, phrased to follow "must be" or "add".</summary>
    internal static string Describe(FieldSpec field)
    {
        if (field.Kinds == JsonKinds.Array && field.Items is { } items)
        {
            return "an array of " + Join(Names(items.Kinds, plural: true));
        }

        if (field.Kinds == JsonKinds.Object && field.Values is { } values)
        {
            return $"a JSON object whose values are {Join(Names(values.Kinds, plural: true))}";
        }

        return Join(Names(field.Kinds, plural: false));
    }

    private static List<string> Names(JsonKinds kinds, bool plural)
    {
        var names = new List<string>(4);
        if ((kinds & JsonKinds.String) != 0)
        {
            names.Add(plural ? "strings" : "a string");
        }

        if ((kinds & JsonKinds.Number) != 0)
        {
            names.Add(plural ? "numbers" : "a number");
        }
        else if ((kinds & JsonKinds.Integer) != 0)
        {
            names.Add(plural ? "integers" : "an integer");
        }

        if ((kinds & JsonKinds.Boolean) != 0)
        {
            // "true or false" reads well alone, not inside a list ("a string, a number or true or false").
            names.Add(plural ? "booleans" : kinds == JsonKinds.Boolean ? "true or false" : "a boolean");
        }

        if ((kinds & JsonKinds.Object) != 0)
        {
            names.Add(plural ? "JSON objects" : "a JSON object");
        }

        if ((kinds & JsonKinds.Array) != 0)
        {
            names.Add(plural ? "arrays" : "a JSON array");
        }

        return names;
    }

    private static string Join(List<string> names) =>
        names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];

    private static string Details(FieldSpec field) =>
        field.Hint is not null ? $" ({field.Hint})"
        : field.AllowedValues is not null ? $" (one of {string.Join(", ", field.AllowedValues)})"
        : string.Empty;

    private static string HowToSend(JsonKinds kinds) => kinds switch
    {
        JsonKinds.String => "send it as a JSON string, in quotes",
        JsonKinds.Integer => "send a whole JSON number, without quotes",
        JsonKinds.Number => "send a JSON number, without quotes",
        JsonKinds.Boolean => "send true or false, without quotes",
        JsonKinds.Object => "send a JSON object ({ ... })",
        JsonKinds.Array => "send a JSON array ([ ... ])",
        _ => "send " + Join(Names(kinds, plural: false)),
    };

    private static string Actual(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Excerpt(value.GetString()!)}\"",
        JsonValueKind.Number => $"the number {Excerpt(value.GetRawText())}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Object => "a JSON object",
        JsonValueKind.Array => "a JSON array",
        _ => "null",
    };

    private static string Excerpt(string text) => text.Length <= ExcerptLength ? text : string.Concat(text.AsSpan(0, ExcerptLength), "…");

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Binary(int bytes) =>
        bytes % (1024 * 1024) == 0 ? $" ({Count(bytes / (1024 * 1024))} MiB)"
        : bytes % 1024 == 0 ? $" ({Count(bytes / 1024)} KiB)"
        : string.Empty;

    /// <summary>Errors and unknown fields, with the lists made only once there is something to hold.</summary>
    private struct Collector(EndpointDefinition endpoint)
    {
        private List<FieldProblem>? _errors;
        private List<string>? _unknown;

        public readonly EndpointDefinition Endpoint => endpoint;

        public void Error(string field, string message) => (_errors ??= []).Add(new FieldProblem(field, message));

        public void Unknown(string path) => (_unknown ??= []).Add(path);

        public readonly BodyCheck ToResult() => _errors is null && _unknown is null
            ? BodyCheck.Passed
            : new BodyCheck(_errors is null ? [] : _errors, _unknown is null ? [] : _unknown, Endpoint);
    }

    /// <summary>Where a value sits in the body, turned into text only when a message needs it.</summary>
    private readonly struct FieldPath
    {
        private readonly string? _parent;
        private readonly string? _name;
        private readonly JsonProperty _key;
        private readonly bool _isKey;
        private readonly int _index;

        private FieldPath(string? parent, string? name, JsonProperty key, bool isKey, int index)
        {
            _parent = parent;
            _name = name;
            _key = key;
            _isKey = isKey;
            _index = index;
        }

        public static FieldPath Of(string? parent, string name) => new(parent, name, default, false, -1);

        public static FieldPath OfKey(string parent, JsonProperty key) => new(parent, null, key, true, -1);

        public static FieldPath OfItem(string parent, int index) => new(parent, null, default, false, index);

        public override string ToString() =>
            _isKey ? _parent + "." + _key.Name
            : _index >= 0 ? string.Create(CultureInfo.InvariantCulture, $"{_parent}[{_index}]")
            : _parent is null ? _name!
            : _parent + "." + _name;
    }
}
