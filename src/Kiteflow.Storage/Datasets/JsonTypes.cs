namespace Kiteflow.Storage;

/// <summary>The JSON types seen at an attribute path, as flags (stored as an integer, merged with OR).</summary>
[Flags]
public enum JsonTypes
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>An object.</summary>
    Object = 1,

    /// <summary>An array.</summary>
    Array = 2,

    /// <summary>A string.</summary>
    String = 4,

    /// <summary>A number.</summary>
    Number = 8,

    /// <summary>true or false.</summary>
    Boolean = 16,

    /// <summary>null.</summary>
    Null = 32,
}
