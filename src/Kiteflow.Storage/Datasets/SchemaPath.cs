namespace Kiteflow.Storage;

/// <summary>One attribute path of a dataset's schema.</summary>
/// <param name="Path">Dotted; <c>[]</c> marks array items (as <c>kiteflow inspect</c> writes it).</param>
/// <param name="Types">The JSON types seen there.</param>
/// <param name="Records">How many records have the path.</param>
public sealed record SchemaPath(string Path, JsonTypes Types, long Records)
{
    /// <summary>The type names, sorted, as <c>kiteflow inspect</c> writes them.</summary>
    public IReadOnlyList<string> TypeNames => SchemaDelta.Names(Types);
}
