using System.Globalization;

namespace Kiteflow.Sandbox.Api;

/// <summary>
/// Enough of cron to validate a schedule's <c>cronline</c> and tell its next run: the @-macros and five
/// fields of numbers, <c>*</c>, ranges, lists and steps. A trailing time zone name is accepted and ignored (UTC).
/// </summary>
internal static class Cron
{
    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private static readonly (int Min, int Max)[] Ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];

    public static bool IsValid(string cronline) => TryParse(cronline, out _);

    public static DateTimeOffset? Next(string cronline, DateTimeOffset after)
    {
        if (!TryParse(cronline, out var fields))
        {
            return null;
        }

        var t = new DateTimeOffset(after.UtcDateTime.Year, after.UtcDateTime.Month, after.UtcDateTime.Day, after.UtcDateTime.Hour, after.UtcDateTime.Minute, 0, TimeSpan.Zero)
            .AddMinutes(1);
        var end = t.AddYears(5);
        while (t < end)
        {
            if (!fields[3][t.Month] || !DayMatches(fields, t))
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero).AddDays(1);
                continue;
            }

            if (!fields[1][t.Hour])
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
                continue;
            }

            if (fields[0][t.Minute])
            {
                return t;
            }

            t = t.AddMinutes(1);
        }

        return null;
    }

    private static bool DayMatches(bool[][] fields, DateTimeOffset t)
    {
        var dayOfWeek = (int)t.DayOfWeek;
        return fields[2][t.Day] && (fields[4][dayOfWeek] || (dayOfWeek == 0 && fields[4][7]));
    }

    private static bool TryParse(string cronline, out bool[][] fields)
    {
        fields = [];
        var text = cronline.Trim();
        if (Macros.TryGetValue(text.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "", out var expanded))
        {
            text = expanded;
        }

        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is not (5 or 6))
        {
            return false;
        }

        fields = new bool[5][];
        for (var i = 0; i < 5; i++)
        {
            fields[i] = new bool[Ranges[i].Max + 1];
            foreach (var item in parts[i].Split(','))
            {
                if (!Mark(item, Ranges[i].Min, Ranges[i].Max, fields[i]))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool Mark(string item, int min, int max, bool[] set)
    {
        var step = 1;
        var slash = item.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
            {
                return false;
            }

            item = item[..slash];
        }

        int from, to;
        if (item == "*")
        {
            (from, to) = (min, max);
        }
        else
        {
            var dash = item.IndexOf('-', StringComparison.Ordinal);
            var first = dash < 0 ? item : item[..dash];
            if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out from))
            {
                return false;
            }

            to = from;
            if (dash >= 0 && !int.TryParse(item[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out to))
            {
                return false;
            }

            if (slash >= 0 && dash < 0)
            {
                to = max;
            }
        }

        if (from < min || to > max || from > to)
        {
            return false;
        }

        for (var v = from; v <= to; v += step)
        {
            set[v] = true;
        }

        return true;
    }
}
