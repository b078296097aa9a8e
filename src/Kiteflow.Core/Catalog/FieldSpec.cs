using System.Text;

namespace Kiteflow.Core.Catalog;

/// <summary>
/// What the catalog knows about one body field: its JSON type(s), whether it is required, and the values and
/// limits Buildkite accepts. Built with the factory methods and modifiers so an endpoint's body reads like a table:
/// <c>FieldSpec.Integer("priority").Between(1, 10)</c>.
/// </summary>
internal sealed record FieldSpec
{
    private FieldSpec(string name, JsonKinds kinds)
    {
        Name = name;
        Utf8Name = Encoding.UTF8.GetBytes(name);
        Kinds = kinds;
    }

    /// <summary>The field's name; for an array item or a map value, a placeholder that never appears in a path.</summary>
    public string Name { get; }

    public byte[] Utf8Name { get; }

    public JsonKinds Kinds { get; }

    public bool IsRequired { get; private init; }

    /// <summary>The only values Buildkite accepts (for a string), or null when any value will do.</summary>
    public IReadOnlyList<string>? AllowedValues { get; private init; }

    internal byte[][]? AllowedValuesUtf8 { get; private init; }

    /// <summary>A string value is a comma-separated list whose items must each be one of <see cref="AllowedValues"/>.</summary>
    public bool IsCommaList { get; private init; }

    public long? Minimum { get; private init; }

    public long? Maximum { get; private init; }

    /// <summary>The most UTF-8 bytes a string value may take.</summary>
    public int? MaxUtf8Bytes { get; private init; }

    /// <summary>The most characters a string value may have.</summary>
    public int? MaxLength { get; private init; }

    public StringFormat? Format { get; private init; }

    /// <summary>A string that is empty or only whitespace is refused.</summary>
    public bool MustNotBeBlank { get; private init; }

    /// <summary>The fields of a nested object the catalog knows; null for a free-form object.</summary>
    public ObjectSchema? Properties { get; private init; }

    /// <summary>Each item of an array value is checked against this; null when items are free-form.</summary>
    public FieldSpec? Items { get; private init; }

    /// <summary>An object whose keys are free (env, meta_data) and whose values are each checked against this.</summary>
    public FieldSpec? Values { get; private init; }

    /// <summary>Why the endpoint refuses this field and what to do instead, or null when it accepts it.</summary>
    public string? RefusedBecause { get; private init; }

    /// <summary>What the value means, e.g. <c>the ref, SHA or tag to build, e.g. "HEAD"</c>: shown when it is missing.</summary>
    public string? Hint { get; private init; }

    public static FieldSpec String(string name) => new(name, JsonKinds.String);

    public static FieldSpec Integer(string name) => new(name, JsonKinds.Integer);

    public static FieldSpec Boolean(string name) => new(name, JsonKinds.Boolean);

    /// <summary>A nested object whose fields the catalog knows (unknown ones are reported with a dotted path).</summary>
    public static FieldSpec Object(string name, params FieldSpec[] fields) =>
        new(name, JsonKinds.Object) { Properties = new ObjectSchema(fields) };

    /// <summary>An object whose content Buildkite interprets freely (provider settings, block step fields).</summary>
    public static FieldSpec FreeObject(string name) => new(name, JsonKinds.Object);

    /// <summary>An object with free keys whose values must each match <paramref name="values"/>.</summary>
    public static FieldSpec Map(string name, FieldSpec values) => new(name, JsonKinds.Object) { Values = values };

    public static FieldSpec Array(string name, FieldSpec items) => new(name, JsonKinds.Array) { Items = items };

    /// <summary>A field that takes any of several JSON types, with no further check.</summary>
    public static FieldSpec OfKinds(string name, JsonKinds kinds) => new(name, kinds);

    /// <summary>The spec of an array item or a map value.</summary>
    public static FieldSpec Item(JsonKinds kinds) => new("(item)", kinds);

    public FieldSpec Required() => this with { IsRequired = true };

    public FieldSpec OneOf(params string[] values) => this with
    {
        AllowedValues = values,
        AllowedValuesUtf8 = System.Array.ConvertAll(values, Encoding.UTF8.GetBytes),
    };

    public FieldSpec CommaListOf(params string[] values) => OneOf(values) with { IsCommaList = true };

    public FieldSpec Between(long minimum, long maximum) => this with { Minimum = minimum, Maximum = maximum };

    public FieldSpec AtMostBytes(int bytes) => this with { MaxUtf8Bytes = bytes };

    public FieldSpec AtMostChars(int length) => this with { MaxLength = length };

    public FieldSpec WithFormat(StringFormat format) => this with { Format = format };

    public FieldSpec NotBlank() => this with { MustNotBeBlank = true };

    public FieldSpec WithItems(FieldSpec items) => this with { Items = items };

    public FieldSpec Refused(string because) => this with { RefusedBecause = because };

    public FieldSpec WithHint(string hint) => this with { Hint = hint };
}
