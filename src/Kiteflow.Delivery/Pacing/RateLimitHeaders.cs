using System.Globalization;
using System.Net.Http.Headers;

namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// What one response says about Buildkite's two rate limits: <c>RateLimit-Remaining</c> /
/// <c>RateLimit-Reset</c> for the organization and <c>RateLimit-User-Remaining</c> /
/// <c>RateLimit-User-Reset</c> for the token's user. Reset is in seconds from now.
/// </summary>
internal readonly record struct RateLimitHeaders(int? Remaining, int? ResetSeconds, int? UserRemaining, int? UserResetSeconds)
{
    public static RateLimitHeaders From(HttpResponseHeaders headers) => new(
        Read(headers, "RateLimit-Remaining"),
        Read(headers, "RateLimit-Reset"),
        Read(headers, "RateLimit-User-Remaining"),
        Read(headers, "RateLimit-User-Reset"));

    /// <summary>The seconds until every exhausted limit resets (the longer wait when both are), or null when none is exhausted.</summary>
    public int? ExhaustedResetSeconds
    {
        get
        {
            int? wait = null;
            if (Remaining <= 0 && ResetSeconds is { } org)
            {
                wait = org;
            }

            if (UserRemaining <= 0 && UserResetSeconds is { } user)
            {
                wait = Math.Max(wait ?? 0, user);
            }

            return wait;
        }
    }

    private static int? Read(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
