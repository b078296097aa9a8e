using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kiteflow.Core.Settings;

/// <summary>
/// Buildkite tokens written into text: the prefixes Buildkite gives its tokens (<c>bkua_</c> API access, <c>bkct_</c>
/// cluster, <c>bkaa_</c> agent session, <c>bkaj_</c> agent job). A destination's settings must hold none — a token
/// belongs in a credential, which Kiteflow sends as <c>Authorization</c> and never shows — because settings are shown
/// in previews, stored, exported and written to the audit log as they are.
/// </summary>
public static partial class TokenLiterals
{
    /// <summary>Whether <paramref name="text"/> holds a Buildkite token prefix (not inside a longer word).</summary>
    public static bool Appear(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Prefix().IsMatch(text);
    }

    /// <summary>The settings (dotted paths, at most two levels: <c>url</c>, <c>batching.otherProps</c>) whose value or key holds a Buildkite token.</summary>
    internal static List<string> FindIn(JsonElement root)
    {
        var found = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object && property.Name is "batching" or "delivery")
            {
                foreach (var inner in property.Value.EnumerateObject())
                {
                    if (Appear(inner.Name) || Holds(inner.Value))
                    {
                        found.Add($"{property.Name}.{inner.Name}");
                    }
                }
            }
            else if (Appear(property.Name) || Holds(property.Value))
            {
                found.Add(property.Name);
            }
        }

        return found;
    }

    private static bool Holds(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Appear(value.GetString()!),
        JsonValueKind.Object => value.EnumerateObject().Any(p => Appear(p.Name) || Holds(p.Value)),
        JsonValueKind.Array => value.EnumerateArray().Any(Holds),
        _ => false,
    };

    [GeneratedRegex(@"(?<![A-Za-z0-9])bk(ua|ct|aa|aj)_", RegexOptions.IgnoreCase)]
    private static partial Regex Prefix();
}
