namespace Kiteflow.Delivery.Pacing;

/// <summary>Which of Buildkite's two rate limits: every request counts against both.</summary>
internal enum RateLimitScope
{
    /// <summary>The organization's limit (<c>RateLimit-*</c>, 429 scope <c>rest</c>; 200 a minute by default).</summary>
    Organization,

    /// <summary>The token user's limit (<c>RateLimit-User-*</c>, 429 scope <c>rest_user</c>; 50 a minute by default).</summary>
    User,
}
