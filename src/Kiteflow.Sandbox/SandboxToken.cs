using System.Diagnostics.CodeAnalysis;

namespace Kiteflow.Sandbox;

/// <summary>
/// An API access token the sandbox accepts, with its scopes. On the command line:
/// <c>TOKEN:scope,scope</c> (<c>TOKEN:*</c> for every scope the sandbox knows).
/// </summary>
public sealed class SandboxToken
{
    /// <summary>Creates a token.</summary>
    /// <param name="value">The bearer token, as a client sends it.</param>
    /// <param name="scopes">Its scopes, e.g. <c>write_builds</c>; <c>*</c> stands for every scope.</param>
    /// <exception cref="ArgumentException">The value is empty or contains whitespace.</exception>
    public SandboxToken(string value, IEnumerable<string> scopes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        ArgumentNullException.ThrowIfNull(scopes);
        if (value.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"A token can't contain whitespace: '{value}'.", nameof(value));
        }

        Value = value;
        var list = scopes.Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        Scopes = list.Contains("*") ? Auth.Scopes.All : list.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The bearer token.</summary>
    public string Value { get; }

    /// <summary>The token's scopes.</summary>
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>
    /// The email of the user the token belongs to, who must exist in the seed; <see langword="null"/> (the default)
    /// means the seed's first user, the administrator who also owns <see cref="SandboxServer.DefaultToken"/>.
    /// Tokens of one user share the per-user rate limit.
    /// </summary>
    public string? UserEmail { get; init; }

    /// <summary>The token's description, as <c>GET /v2/access-token</c> shows it. Default: <c>Sandbox token</c>.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// The organization slugs the token may reach; <see langword="null"/> (the default) means every organization its user belongs to.
    /// </summary>
    public IReadOnlyList<string>? Organizations { get; init; }

    /// <summary>Parses <c>TOKEN:scope,scope</c>.</summary>
    /// <param name="text">For example <c>bkua_test:read_builds,write_builds</c>.</param>
    /// <returns>The token.</returns>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static SandboxToken Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var token)
            ? token
            : throw new FormatException($"'{text}' is not a token: write TOKEN:scope,scope (e.g. bkua_mine:read_builds,write_builds, or bkua_mine:* for every scope).");
    }

    /// <summary>Tries to parse <c>TOKEN:scope,scope</c>; see <see cref="Parse"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="token">The token, when the text is valid.</param>
    /// <returns>Whether the text is valid.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out SandboxToken? token)
    {
        token = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var value = text[..colon].Trim();
        if (value.Length == 0 || value.Any(char.IsWhiteSpace))
        {
            return false;
        }

        token = new SandboxToken(value, text[(colon + 1)..].Split(','));
        return true;
    }

    /// <summary>Shows the token with its value redacted and its scopes.</summary>
    /// <returns>For example <c>bkua••••:read_builds,write_builds</c>.</returns>
    public override string ToString() => $"{Value[..Math.Min(4, Value.Length)]}••••:{string.Join(',', Scopes)}";
}
