using System.Runtime.InteropServices;
using System.Text.Json;

namespace Kiteflow.Core.Catalog;

/// <summary>
/// The fields of a JSON object the catalog knows. Looks a property up by its UTF-8 name without allocating, so a
/// body is checked on the hot path of planning with no per-record dictionaries.
/// </summary>
internal sealed class ObjectSchema
{
    // A bit per field tracks which were seen in one body; 64 is far above any Buildkite endpoint's field count.
    private const int MaxFields = 64;

    // Field indexes bucketed by the UTF-8 length of the name: a lookup compares only same-length names.
    private readonly int[][] _byLength;

    public ObjectSchema(IReadOnlyList<FieldSpec> fields, RequiredGroup? oneOfRequired = null)
    {
        if (fields.Count > MaxFields)
        {
            throw new ArgumentException($"An object schema holds at most {MaxFields} fields.", nameof(fields));
        }

        Fields = fields;
        var longest = 0;
        for (var i = 0; i < fields.Count; i++)
        {
            longest = Math.Max(longest, fields[i].Utf8Name.Length);
            for (var j = 0; j < i; j++)
            {
                if (fields[j].Name == fields[i].Name)
                {
                    throw new ArgumentException($"The field '{fields[i].Name}' is listed twice.", nameof(fields));
                }
            }

            if (fields[i].IsRequired)
            {
                RequiredMask |= 1UL << i;
            }
        }

        _byLength = new int[longest + 1][];
        for (var length = 0; length <= longest; length++)
        {
            var bucket = new List<int>();
            for (var i = 0; i < fields.Count; i++)
            {
                if (fields[i].Utf8Name.Length == length)
                {
                    bucket.Add(i);
                }
            }

            _byLength[length] = [.. bucket];
        }

        if (oneOfRequired is not null)
        {
            foreach (var member in oneOfRequired.Members)
            {
                var index = IndexOf(member);
                if (index < 0)
                {
                    throw new ArgumentException($"The required group names '{member}', which is not a field.", nameof(oneOfRequired));
                }

                OneOfRequiredMask |= 1UL << index;
            }
        }

        OneOfRequired = oneOfRequired;
    }

    /// <summary>An object with no known fields: every field of a body is unknown.</summary>
    public static ObjectSchema None { get; } = new([]);

    public IReadOnlyList<FieldSpec> Fields { get; }

    public ulong RequiredMask { get; }

    public RequiredGroup? OneOfRequired { get; }

    public ulong OneOfRequiredMask { get; }

    /// <summary>The index of the field named like <paramref name="property"/>, or -1.</summary>
    public int IndexOf(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.IndexOf((byte)'\\') >= 0)
        {
            // An escaped name (rare): let JsonProperty unescape while comparing.
            for (var i = 0; i < Fields.Count; i++)
            {
                if (property.NameEquals(Fields[i].Utf8Name))
                {
                    return i;
                }
            }

            return -1;
        }

        if (raw.Length >= _byLength.Length)
        {
            return -1;
        }

        foreach (var i in _byLength[raw.Length])
        {
            if (raw.SequenceEqual(Fields[i].Utf8Name))
            {
                return i;
            }
        }

        return -1;
    }

    public int IndexOf(string name)
    {
        for (var i = 0; i < Fields.Count; i++)
        {
            if (Fields[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    public FieldSpec? Find(string name)
    {
        var index = IndexOf(name);
        return index < 0 ? null : Fields[index];
    }
}
