using System.Text;
using System.Text.Json;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Templating;

/// <summary>
/// The destination's extra headers (SPEC §2.4): <c>name:value</c> pairs separated by commas, a value
/// holding a comma written in quotes (<c>X-Note:"a, b"</c>), values that may use macros.
/// <c>Authorization</c> and <c>Content-Type</c> are managed by Kiteflow and refused here.
/// </summary>
internal sealed class HeaderTemplates
{
    private static readonly string[] Managed = ["Authorization", "Content-Type"];
    private static readonly string[] SetByHttp = ["Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Upgrade", "TE", "Trailer", "Keep-Alive", "Proxy-Connection"];
    private readonly Header[] _headers;

    private HeaderTemplates(Header[] headers) => _headers = headers;

    /// <summary>No extra headers.</summary>
    public static HeaderTemplates None { get; } = new([]);

    public int Count => _headers.Length;

    /// <summary>The macros of every header, in order.</summary>
    public IEnumerable<Macro> Macros => _headers.SelectMany(h => h.Parts).Where(p => p.Macro is not null).Select(p => p.Macro!);

    /// <summary>Whether any value comes from the record (then headers take part in grouping).</summary>
    public bool HasMacros => Array.Exists(_headers, h => h.Parts.Exists(p => p.Macro is not null));

    public static HeaderTemplates? Compile(string? text, List<SettingsProblem> problems)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return None;
        }

        if (text.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            problems.Add(new SettingsProblem("headers", "Headers cannot contain a line break (CR or LF); separate pairs with commas."));
            return null;
        }

        var before = problems.Count;
        var headers = new List<Header>();
        foreach (var item in SplitItems(text, problems))
        {
            var colon = item.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                problems.Add(new SettingsProblem("headers", $"'{item.Trim()}' is not a name:value pair; write e.g. X-Team:platform."));
                continue;
            }

            var name = item[..colon].Trim();
            if (!IsToken(name))
            {
                problems.Add(new SettingsProblem("headers", $"'{name}' is not a valid header name; use letters, digits and - (e.g. X-Team)."));
                continue;
            }

            if (Array.Find(Managed, m => m.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } managed)
            {
                var why = managed == "Authorization" ? "the credential's token is sent as Authorization" : "Content-Type follows contentFormat";
                problems.Add(new SettingsProblem("headers", $"{managed} is managed by Kiteflow ({why}); remove it from headers."));
                continue;
            }

            if (Array.Exists(SetByHttp, m => m.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add(new SettingsProblem("headers", $"{name} is set by HTTP itself; remove it from headers."));
                continue;
            }

            var value = Unquote(item[(colon + 1)..].Trim(), name, problems);
            if (value is null)
            {
                continue;
            }

            var errors = new List<string>();
            var parts = TemplateParts.Split(value, errors);
            foreach (var error in errors)
            {
                problems.Add(new SettingsProblem("headers", $"{name}: {error}"));
            }

            headers.Add(new Header(name, parts));
        }

        return problems.Count > before ? null : new HeaderTemplates([.. headers]);
    }

    /// <summary>Resolves every header for <paramref name="record"/>. Returns null on success, or why the record cannot make its headers.</summary>
    public string? Resolve(JsonElement record, TemplateClock clock, List<KeyValuePair<string, string>> into, StringBuilder scratch) =>
        Resolve(new ElementMacroValues(record), clock, into, scratch);

    /// <summary>As <see cref="Resolve(JsonElement, TemplateClock, List{KeyValuePair{string, string}}, StringBuilder)"/>, with the record's values from <paramref name="values"/>.</summary>
    public string? Resolve<TValues>(TValues values, TemplateClock clock, List<KeyValuePair<string, string>> into, StringBuilder scratch)
        where TValues : IMacroValues
    {
        foreach (var header in _headers)
        {
            scratch.Clear();
            foreach (var part in header.Parts)
            {
                if (part.Literal is { } literal)
                {
                    scratch.Append(literal);
                    continue;
                }

                var value = part.Macro!.Resolve(values, clock, out var reason);
                if (value is null)
                {
                    return $"header {header.Name}: {reason}";
                }

                foreach (var c in value)
                {
                    if (c is < ' ' and not '\t' or > '~')
                    {
                        return $"header {header.Name}: {part.Macro.Text} has a character a header cannot carry (a line break, a control character or non-ASCII text); clean the value or move it to the body.";
                    }
                }

                scratch.Append(value);
            }

            into.Add(new KeyValuePair<string, string>(header.Name, scratch.ToString()));
        }

        return null;
    }

    private static IEnumerable<string> SplitItems(string text, List<SettingsProblem> problems)
    {
        var start = 0;
        var inQuotes = false;
        var braces = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inQuotes = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inQuotes = true;
                    break;
                case '{':
                    braces++;
                    break;
                case '}':
                    braces = Math.Max(0, braces - 1);
                    break;
                case ',' when braces == 0:
                    if (text[start..i].Trim().Length > 0)
                    {
                        yield return text[start..i];
                    }

                    start = i + 1;
                    break;
            }
        }

        if (inQuotes)
        {
            problems.Add(new SettingsProblem("headers", "A quoted value is not closed; end it with \"."));
            yield break;
        }

        if (text[start..].Trim().Length > 0)
        {
            yield return text[start..];
        }
    }

    private static string? Unquote(string value, string name, List<SettingsProblem> problems)
    {
        if (!value.StartsWith('"'))
        {
            return value;
        }

        var builder = new StringBuilder();
        for (var i = 1; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length)
            {
                builder.Append(value[++i]);
                continue;
            }

            if (c == '"')
            {
                if (value[(i + 1)..].Trim().Length > 0)
                {
                    problems.Add(new SettingsProblem("headers", $"{name}: text after the closing quote; quote the whole value."));
                    return null;
                }

                return builder.ToString();
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool IsToken(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    private sealed record Header(string Name, List<TemplateParts.Part> Parts);
}
