namespace Kiteflow.Core.Settings;

/// <summary>How the records of a batch become one body.</summary>
public enum BatchAlgorithm
{
    /// <summary>The body is a JSON array of the records.</summary>
    JsonArray,

    /// <summary>The body is an object holding the records under a named property, beside <c>otherProps</c>.</summary>
    Property,

    /// <summary>A JavaScript function <c>batch(records, context)</c> returns the body.</summary>
    Code,
}
