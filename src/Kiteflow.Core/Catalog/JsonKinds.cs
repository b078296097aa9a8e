namespace Kiteflow.Core.Catalog;

/// <summary>The JSON types a body field accepts. <see cref="Integer"/> is a number without a fraction.</summary>
[Flags]
internal enum JsonKinds
{
    None = 0,
    String = 1,
    Integer = 2,
    Number = 4,
    Boolean = 8,
    Object = 16,
    Array = 32,

    /// <summary>A string, a number or a boolean: what Buildkite turns into a string (env values, meta-data values).</summary>
    Scalar = String | Number | Boolean,
}
