namespace Kiteflow.Delivery.Credentials;

/// <summary>What Buildkite says about a token (<c>GET /v2/access-token</c>); never the token itself.</summary>
/// <param name="Uuid">The token's id.</param>
/// <param name="Scopes">Its scopes, e.g. <c>read_builds</c>, <c>write_builds</c>.</param>
/// <param name="Description">The description its owner gave it.</param>
/// <param name="CreatedAt">When it was created; null when absent or unreadable.</param>
/// <param name="ExpiresAt">When it expires; null when it does not (or the value is unreadable).</param>
/// <param name="UserName">Its user's name.</param>
/// <param name="UserEmail">Its user's email.</param>
internal sealed record TokenInfo(
    string Uuid,
    IReadOnlyList<string> Scopes,
    string? Description,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? ExpiresAt,
    string? UserName,
    string? UserEmail)
{
    /// <summary>Whether the token holds <paramref name="scope"/> (e.g. <c>write_builds</c>, as the endpoint catalog names it).</summary>
    public bool HasScope(string scope) => Scopes.Contains(scope, StringComparer.Ordinal);
}
