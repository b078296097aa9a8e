using System.Globalization;

namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// Reads the two timestamp styles Buildkite writes: ISO 8601 (<c>2015-05-09T21:05:59.874Z</c>, most endpoints)
/// and <c>2015-03-01 06:44:40 UTC</c> (access-token and a few pipeline fields).
/// </summary>
internal static class BuildkiteTime
{
    private static readonly string[] SpacedFormats = ["yyyy-MM-dd HH:mm:ss 'UTC'", "yyyy-MM-dd HH:mm:ss.FFFFFFF 'UTC'"];

    /// <summary>Parses either style; false for anything else (an offset-less ISO time is refused rather than guessed).</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (text.EndsWith(" UTC", StringComparison.Ordinal))
        {
            return DateTimeOffset.TryParseExact(text, SpacedFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
        }

        // ISO 8601 must carry its zone (Z or ±hh:mm): a local time would be a guess.
        var t = text.IndexOf('T', StringComparison.Ordinal);
        if (t < 0 || !(text.EndsWith('Z') || text.LastIndexOfAny(['+', '-']) > t))
        {
            return false;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out value))
        {
            return false;
        }

        value = value.ToUniversalTime();
        return true;
    }
}
