using System.Globalization;

namespace Kiteflow.Storage.Sqlite;

/// <summary>Times as the store writes them: ISO 8601 in UTC, to the tick, so that text order is time order.</summary>
internal static class StoreTime
{
    public static string Text(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static DateTimeOffset? ParseOrNull(object? value) => value is string text ? Parse(text) : null;
}
