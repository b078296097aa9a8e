using System.Text.Json;

namespace Kiteflow.Core.Records;

/// <summary>
/// Infers a dataset's schema: every attribute path (dotted for nested objects, <c>[]</c> for array
/// items) with the JSON types seen there and how many records have it.
/// </summary>
public sealed class SchemaInference
{
    private readonly Dictionary<string, Entry> _paths = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private long _current = -1;

    /// <summary>Records added.</summary>
    public long Records { get; private set; }

    /// <summary>The paths in first-seen order.</summary>
    public IReadOnlyList<AttributeStats> Attributes =>
        _order.Select(p => new AttributeStats(p, _paths[p].Types.OrderBy(t => t, StringComparer.Ordinal).ToArray(), _paths[p].Records)).ToArray();

    /// <summary>Adds one record's attributes.</summary>
    public void Add(JsonElement record)
    {
        _current = Records++;
        Walk(record, string.Empty);
    }

    private void Walk(JsonElement value, string prefix)
    {
        foreach (var property in value.EnumerateObject())
        {
            var path = prefix + property.Name;
            Note(path, property.Value);
            Descend(property.Value, path);
        }
    }

    private void Descend(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            Walk(value, path + ".");
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            var items = path + "[]";
            foreach (var item in value.EnumerateArray())
            {
                Note(items, item);
                Descend(item, items);
            }
        }
    }

    private void Note(string path, JsonElement value)
    {
        if (!_paths.TryGetValue(path, out var entry))
        {
            entry = new Entry();
            _paths[path] = entry;
            _order.Add(path);
        }

        entry.Types.Add(TypeName(value.ValueKind));
        if (entry.LastRecord != _current)
        {
            entry.LastRecord = _current;
            entry.Records++;
        }
    }

    private static string TypeName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private sealed class Entry
    {
        public HashSet<string> Types { get; } = new(StringComparer.Ordinal);

        public long Records { get; set; }

        public long LastRecord { get; set; } = -1;
    }
}

/// <summary>One attribute path of a dataset's schema.</summary>
/// <param name="Path">The dotted path; <c>[]</c> marks the items of an array (<c>labels[]</c>).</param>
/// <param name="Types">The JSON types seen at the path, sorted.</param>
/// <param name="Records">How many records have the path.</param>
public sealed record AttributeStats(string Path, IReadOnlyList<string> Types, long Records);
