using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// What one response says about Buildkite's two rate limits: the organization's <c>RateLimit-*</c> headers
/// and the token user's <c>RateLimit-User-*</c> headers, and for a 429 which limit refused the request and
/// for how long. A response without any of them (a proxy's error, no response at all) is the default value.
/// </summary>
internal readonly record struct RateLimitHeaders(RateLimitReading Organization, RateLimitReading User)
{
    /// <summary>Whether the response was a 429.</summary>
    public bool RateLimited { get; init; }

    /// <summary>For a 429 that names (or whose headers show) the organization's limit spent: seconds until it resets.</summary>
    public int? OrganizationRefusedSeconds { get; init; }

    /// <summary>For a 429 that names (or whose headers show) the user's limit spent: seconds until it resets.</summary>
    public int? UserRefusedSeconds { get; init; }

    /// <summary>How long to wait after a 429 when nothing paces the run: the longest reset among the limits it names.</summary>
    public int RetryAfterSeconds => Math.Max(OrganizationRefusedSeconds ?? 0, UserRefusedSeconds ?? 0) is > 0 and var seconds ? seconds : 1;

    public static RateLimitHeaders From(HttpResponseHeaders headers) => new(
        new RateLimitReading(Read(headers, "RateLimit-Limit"), Read(headers, "RateLimit-Remaining"), Read(headers, "RateLimit-Reset")),
        new RateLimitReading(Read(headers, "RateLimit-User-Limit"), Read(headers, "RateLimit-User-Remaining"), Read(headers, "RateLimit-User-Reset")));

    /// <summary>
    /// The same headers for a 429 answer. Which limit refused comes from the body's <c>scope</c>
    /// (<c>rest</c> or <c>rest_user</c>, with its <c>reset</c>); when the body does not say, from the
    /// headers that show nothing left; when neither says, both limits are taken as spent.
    /// </summary>
    /// <param name="jsonBody">The 429's body when it is JSON, else null.</param>
    public RateLimitHeaders AsRefusal(string? jsonBody)
    {
        var (scope, reset) = ReadBody(jsonBody);
        bool organization, user;
        if (scope is { } named)
        {
            organization = named == RateLimitScope.Organization;
            user = named == RateLimitScope.User;
        }
        else
        {
            organization = Organization.Remaining <= 0;
            user = User.Remaining <= 0;
            if (!organization && !user)
            {
                organization = user = true;
            }
        }

        return this with
        {
            RateLimited = true,
            OrganizationRefusedSeconds = organization ? Seconds(scope is not null ? reset : null, Organization, reset) : null,
            UserRefusedSeconds = user ? Seconds(scope is not null ? reset : null, User, reset) : null,
        };
    }

    // The body's reset when the body named this limit, else the limit's own header, else any reset said, else a second.
    private static int Seconds(int? named, RateLimitReading reading, int? said) => Math.Max(named ?? reading.ResetSeconds ?? said ?? 1, 1);

    private static (RateLimitScope? Scope, int? Reset) ReadBody(string? jsonBody)
    {
        if (jsonBody is null)
        {
            return (null, null);
        }

        using var document = JsonDocument.Parse(jsonBody);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }

        RateLimitScope? scope = root.TryGetProperty("scope", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString() switch
            {
                "rest" => RateLimitScope.Organization,
                "rest_user" => RateLimitScope.User,
                _ => null,
            }
            : null;
        int? reset = root.TryGetProperty("reset", out var r) && r.ValueKind == JsonValueKind.Number && r.TryGetInt32(out var seconds) ? seconds : null;
        return (scope, reset);
    }

    private static int? Read(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
