using System.Text;
using System.Text.Json;

namespace Kiteflow.Core.Templating;

/// <summary>
/// What a record holds where a macro points: nothing (<see cref="JsonValueKind.Undefined"/>), null, an object, an
/// array, or a single value with its text (strings unescaped, numbers as their exact JSON text, true or false).
/// </summary>
internal readonly record struct MacroValue(JsonValueKind Kind, string? Text)
{
    /// <summary>The record has no such attribute.</summary>
    public static MacroValue Missing => default;

    /// <summary>The value of <paramref name="element"/>.</summary>
    public static MacroValue Of(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => new(JsonValueKind.String, element.GetString()),
        JsonValueKind.Number => new(JsonValueKind.Number, element.GetRawText()),
        JsonValueKind.True => new(JsonValueKind.True, "true"),
        JsonValueKind.False => new(JsonValueKind.False, "false"),
        var kind => new(kind, null),
    };

    /// <summary>The value of the token <paramref name="reader"/> stands on (the first token of an object or array).</summary>
    public static MacroValue Of(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => new(JsonValueKind.String, reader.GetString()),
        JsonTokenType.Number => new(JsonValueKind.Number, Encoding.UTF8.GetString(reader.ValueSpan)),
        JsonTokenType.True => new(JsonValueKind.True, "true"),
        JsonTokenType.False => new(JsonValueKind.False, "false"),
        JsonTokenType.Null => new(JsonValueKind.Null, null),
        JsonTokenType.StartObject => new(JsonValueKind.Object, null),
        JsonTokenType.StartArray => new(JsonValueKind.Array, null),
        _ => Missing,
    };
}
