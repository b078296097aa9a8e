namespace Kiteflow.Sandbox;

/// <summary>How the sandbox counts requests against a <see cref="RateLimitSetting"/>.</summary>
public enum RateLimitWindowKind
{
    /// <summary>
    /// Windows aligned to multiples of the window length since the Unix epoch (minutes, for 60 s), as
    /// Buildkite's <c>reset_at</c> values suggest. <c>RateLimit-Reset</c> is the time to the window's end.
    /// </summary>
    Fixed,

    /// <summary>
    /// The requests of the last window length. <c>RateLimit-Reset</c> is the time until the oldest
    /// counted request leaves the window, i.e. until one more request is admitted.
    /// </summary>
    Sliding,
}
