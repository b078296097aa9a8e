using System.Text;
using System.Text.Json;

namespace Kiteflow.Core.Templating;

/// <summary>
/// One <c>{…}</c> of a template: a record attribute (<c>{author.email}</c>, <c>{record.author.email}</c>,
/// with an optional default <c>{branch=main}</c>) or the current time (<c>{now}</c>, <c>{now-7}</c>).
/// </summary>
internal sealed class Macro
{
    private readonly byte[][] _path;

    private Macro(string text, string[] path, string? defaultValue, int? nowOffset)
    {
        Text = text;
        Path = path;
        _path = Array.ConvertAll(path, Encoding.UTF8.GetBytes);
        Default = defaultValue;
        NowOffset = nowOffset;
    }

    /// <summary>The macro as written, braces included, for messages.</summary>
    public string Text { get; }

    /// <summary>The attribute path; empty for a time macro.</summary>
    public string[] Path { get; }

    /// <summary>The attribute path's names as UTF-8.</summary>
    public byte[][] Utf8Path => _path;

    /// <summary>The text used when the attribute is missing or null.</summary>
    public string? Default { get; }

    /// <summary>For <c>{now±N}</c>: N (0 for <c>{now}</c>); null for an attribute macro.</summary>
    public int? NowOffset { get; }

    /// <summary>Parses the text between the braces. Returns null and sets <paramref name="error"/> when it is not a macro.</summary>
    public static Macro? Parse(string inner, out string? error)
    {
        error = null;
        var text = "{" + inner + "}";
        var body = inner;
        string? defaultValue = null;
        var equals = inner.IndexOf('=', StringComparison.Ordinal);
        if (equals >= 0)
        {
            body = inner[..equals];
            defaultValue = inner[(equals + 1)..];
        }

        body = body.Trim();
        if (body is "now" || (body.StartsWith("now", StringComparison.Ordinal) && body.Length > 3 && body[3] is '+' or '-'))
        {
            if (defaultValue is not null)
            {
                error = $"{text}: a time macro takes no default.";
                return null;
            }

            var offset = 0;
            if (body.Length > 3 && (!int.TryParse(body[4..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset) || offset > 100_000))
            {
                error = $"{text}: write the offset as a whole number, e.g. {{now-7}} or {{now+1}}.";
                return null;
            }

            return new Macro(text, [], null, body[3..].StartsWith('-') ? -offset : offset);
        }

        if (body.StartsWith("record.", StringComparison.Ordinal))
        {
            body = body["record.".Length..];
        }

        var path = body.Split('.');
        if (body.Length == 0 || Array.Exists(path, p => p.Length == 0))
        {
            error = $"{text}: name an attribute, e.g. {{pipeline_slug}} or {{author.email}}.";
            return null;
        }

        return new Macro(text, path, defaultValue, null);
    }

    /// <summary>
    /// The macro's value for <paramref name="record"/> as text: strings as they are, numbers as their
    /// exact JSON text, booleans as true/false. Returns null with a reason when there is no value.
    /// </summary>
    public string? Resolve(JsonElement record, TemplateClock clock, out string? reason) => Resolve(new ElementMacroValues(record), clock, out reason);

    /// <summary>As <see cref="Resolve(JsonElement, TemplateClock, out string?)"/>, with the record's values from <paramref name="values"/>.</summary>
    public string? Resolve<TValues>(TValues values, TemplateClock clock, out string? reason)
        where TValues : IMacroValues
    {
        reason = null;
        if (NowOffset is { } offset)
        {
            return clock.Format(offset);
        }

        var value = values.Find(this);
        switch (value.Kind)
        {
            case JsonValueKind.Undefined:
                return Fallback(out reason, MissingWhy);
            case JsonValueKind.Null:
                return Fallback(out reason, NullWhy);
            case JsonValueKind.Object or JsonValueKind.Array:
                reason = $"{Text}: the attribute '{string.Join('.', Path)}' is {Records.RecordParser.KindName(value.Kind)}; a URL or header needs a single value (string, number or boolean).";
                return null;
            default:
                return value.Text;
        }
    }

    /// <summary>
    /// Finds the attribute in <paramref name="record"/>: true with its value (which may be JSON null)
    /// when the record has it. Always false for a time macro.
    /// </summary>
    public bool TryFind(JsonElement record, out JsonElement value)
    {
        value = record;
        if (NowOffset is not null)
        {
            return false;
        }

        for (var i = 0; i < _path.Length; i++)
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(_path[i], out value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A single value as text: strings as they are, numbers as their exact JSON text, booleans as true/false.</summary>
    public static string AsText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new ArgumentException($"A {value.ValueKind} is not a single value.", nameof(value)),
    };

    /// <summary>Why a missing attribute with no default rejects the record, naming the macro and the fix.</summary>
    public string MissingReason() => Reason(MissingWhy);

    /// <summary>Why a null attribute with no default rejects the record, naming the macro and the fix.</summary>
    public string NullReason() => Reason(NullWhy);

    private string MissingWhy => $"the record has no attribute '{string.Join('.', Path)}'";

    private string NullWhy => $"the attribute '{string.Join('.', Path)}' is null";

    private string? Fallback(out string? reason, string why)
    {
        if (Default is not null)
        {
            reason = null;
            return Default;
        }

        reason = Reason(why);
        return null;
    }

    private string Reason(string why) => $"{Text}: {why}; add it to the record or give a default, e.g. {{{string.Join('.', Path)}=value}}.";
}
