namespace Kiteflow.Delivery.Credentials;

/// <summary>How <c>GET /v2/access-token</c> went.</summary>
internal enum AccessTokenStatus
{
    /// <summary>200: the token works; <see cref="AccessTokenResult.Token"/> says what it may do.</summary>
    Valid,

    /// <summary>401: the token was refused (revoked, expired or mistyped).</summary>
    Refused,

    /// <summary>403: the token is known but this request is forbidden (e.g. an IP allow-list).</summary>
    Forbidden,

    /// <summary>429: the rate limit is spent; the token was not judged. Try again after the reset.</summary>
    RateLimited,

    /// <summary>No answer: the connection failed or timed out (DNS, refused, TLS, proxy).</summary>
    Unreachable,

    /// <summary>An answer that is not Buildkite's: another status, or a body that is not the token's description.</summary>
    UnexpectedResponse,
}
