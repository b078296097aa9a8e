using Kiteflow.Core.Records;

namespace Kiteflow.Storage;

/// <summary>The schema of a batch of records, to merge into a dataset's (types OR-ed, counts added, new paths last).</summary>
/// <param name="Paths">The batch's paths in first-seen order.</param>
public sealed record SchemaDelta(IReadOnlyList<SchemaPath> Paths)
{
    private static readonly (JsonTypes Type, string Name)[] TypeNamesInOrder =
    [
        (JsonTypes.Array, "array"), (JsonTypes.Boolean, "boolean"), (JsonTypes.Null, "null"),
        (JsonTypes.Number, "number"), (JsonTypes.Object, "object"), (JsonTypes.String, "string"),
    ];

    /// <summary>The delta of the records a <see cref="SchemaInference"/> has seen.</summary>
    public static SchemaDelta From(SchemaInference inference)
    {
        ArgumentNullException.ThrowIfNull(inference);
        return new SchemaDelta([.. inference.Attributes.Select(a => new SchemaPath(a.Path, Parse(a.Types), a.Records))]);
    }

    /// <summary>The flags of type names such as <c>string</c>, <c>number</c>.</summary>
    public static JsonTypes Parse(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var types = JsonTypes.None;
        foreach (var name in names)
        {
            foreach (var (type, typeName) in TypeNamesInOrder)
            {
                if (typeName == name)
                {
                    types |= type;
                }
            }
        }

        return types;
    }

    /// <summary>The names of the flags, sorted.</summary>
    public static IReadOnlyList<string> Names(JsonTypes types) =>
        [.. TypeNamesInOrder.Where(t => (types & t.Type) != 0).Select(t => t.Name)];
}
