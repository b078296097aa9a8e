using System.Collections.Concurrent;
using System.Globalization;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Templating;

/// <summary>
/// The time <c>{now±N}</c> macros write. It is read once, when planning starts, so every request of
/// one plan sees the same date; each offset is formatted once and reused.
/// </summary>
internal sealed class TemplateClock
{
    private readonly DateTimeOffset _now;
    private readonly string _format;
    private readonly DateUnit _unit;
    private readonly ConcurrentDictionary<int, string> _cache = new();

    public TemplateClock(TimeProvider timeProvider, string format, DateUnit unit)
    {
        _now = timeProvider.GetUtcNow();
        _format = format;
        _unit = unit;
    }

    public string Format(int offset)
    {
        if (!_cache.TryGetValue(offset, out var text))
        {
            var moved = _unit switch
            {
                DateUnit.Second => _now.AddSeconds(offset),
                DateUnit.Minute => _now.AddMinutes(offset),
                DateUnit.Hour => _now.AddHours(offset),
                DateUnit.Day => _now.AddDays(offset),
                DateUnit.Week => _now.AddDays(7.0 * offset),
                DateUnit.Month => _now.AddMonths(offset),
                DateUnit.Year => _now.AddYears(offset),
                _ => _now,
            };
            text = moved.UtcDateTime.ToString(_format, CultureInfo.InvariantCulture);
            _cache.TryAdd(offset, text);
        }

        return text;
    }
}
