namespace Kiteflow.Storage.Postgres;

/// <summary>
/// Times as PostgreSQL's timestamptz keeps them: UTC, to the microsecond. Orleans hands over UTC
/// <see cref="DateTime"/>s; one of unspecified kind is taken as UTC rather than shifted by the local zone.
/// </summary>
internal static class PostgresTime
{
    public static DateTime ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    /// <summary>The value as the database will give it back (microsecond precision).</summary>
    public static DateTime Truncate(DateTime value)
    {
        var utc = ToUtc(value);
        return new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
    }
}
