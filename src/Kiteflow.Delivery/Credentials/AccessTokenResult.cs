namespace Kiteflow.Delivery.Credentials;

/// <summary>The outcome of asking Buildkite about a token: a value, not an exception, for every answer and for no answer.</summary>
/// <param name="Status">How it went.</param>
/// <param name="Token">What the token may do; set only when <paramref name="Status"/> is <see cref="AccessTokenStatus.Valid"/>.</param>
/// <param name="HttpStatus">The HTTP status, when there was an answer.</param>
/// <param name="Message">One sentence for the user, e.g. why the token was refused; never contains the token.</param>
internal sealed record AccessTokenResult(AccessTokenStatus Status, TokenInfo? Token, int? HttpStatus, string Message)
{
    /// <summary>For <see cref="AccessTokenStatus.RateLimited"/>: how long until the rate limit resets, when the answer said.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>True when the token works.</summary>
    public bool IsValid => Status == AccessTokenStatus.Valid;

    /// <summary>
    /// Null when the token works and holds <paramref name="scope"/>; else why not, for a pre-flight check
    /// (e.g. "the token lacks the write_builds scope; it has read_builds").
    /// </summary>
    public string? ScopeProblem(string scope)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        if (Token is null)
        {
            return Message;
        }

        if (Token.HasScope(scope))
        {
            return null;
        }

        var held = Token.Scopes.Count == 0 ? "no scopes" : "only " + string.Join(", ", Token.Scopes);
        return $"the token lacks the {scope} scope (it has {held}); create a token with {scope} at https://buildkite.com/user/api-access-tokens and add it again.";
    }
}
