using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Kiteflow.Sandbox;

/// <summary>
/// A request budget: at most <see cref="Limit"/> requests per <see cref="Window"/>.
/// Written as <c>N/W</c> with a unit: <c>200/60s</c>, <c>20/2s</c>, <c>50/1m</c>, <c>10/500ms</c>.
/// </summary>
public readonly record struct RateLimitSetting
{
    /// <summary>Creates a setting of <paramref name="limit"/> requests per <paramref name="window"/>.</summary>
    /// <param name="limit">Requests allowed per window; at least 1.</param>
    /// <param name="window">The window's length; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">The limit is below 1 or the window is not positive.</exception>
    public RateLimitSetting(int limit, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        Limit = limit;
        Window = window;
    }

    /// <summary>Requests allowed per window.</summary>
    public int Limit { get; }

    /// <summary>The window's length.</summary>
    public TimeSpan Window { get; }

    /// <summary>Buildkite's organization limit: 200 requests per 60 seconds.</summary>
    public static RateLimitSetting DefaultOrganization { get; } = new(200, TimeSpan.FromSeconds(60));

    /// <summary>Buildkite's per-user limit: 50 requests per 60 seconds.</summary>
    public static RateLimitSetting DefaultUser { get; } = new(50, TimeSpan.FromSeconds(60));

    /// <summary>Parses <c>N/W</c> where W is a number followed by <c>ms</c>, <c>s</c> (the default), <c>m</c> or <c>h</c>.</summary>
    /// <param name="text">For example <c>200/60s</c>.</param>
    /// <returns>The setting.</returns>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static RateLimitSetting Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var setting)
            ? setting
            : throw new FormatException($"'{text}' is not a rate limit: write requests/window, e.g. 200/60s, 20/2s or 50/1m.");
    }

    /// <summary>Tries to parse <c>N/W</c>; see <see cref="Parse"/>.</summary>
    /// <param name="text">For example <c>20/2s</c>.</param>
    /// <param name="setting">The setting, when the text is valid.</param>
    /// <returns>Whether the text is valid.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out RateLimitSetting setting)
    {
        setting = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Trim().Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            || limit < 1)
        {
            return false;
        }

        var window = parts[1].Trim();
        (string Suffix, double Milliseconds)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        var factor = 1000d;
        foreach (var (suffix, milliseconds) in units)
        {
            if (window.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && (suffix != "s" || !window.EndsWith("ms", StringComparison.OrdinalIgnoreCase)))
            {
                window = window[..^suffix.Length];
                factor = milliseconds;
                break;
            }
        }

        if (!double.TryParse(window, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            || amount <= 0)
        {
            return false;
        }

        setting = new RateLimitSetting(limit, TimeSpan.FromMilliseconds(amount * factor));
        return true;
    }

    /// <summary>Writes the setting as <c>N/Ws</c> (or <c>N/Wms</c> below a second).</summary>
    /// <returns>For example <c>200/60s</c>.</returns>
    public override string ToString() =>
        Window.TotalMilliseconds % 1000 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{Limit}/{Window.TotalSeconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{Limit}/{Window.TotalMilliseconds}ms");
}
