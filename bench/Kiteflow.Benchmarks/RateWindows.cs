using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>Fixed rate-limit windows aligned to the Unix epoch, as the sandbox's (and Buildkite's) are.</summary>
internal static class RateWindows
{
    /// <summary>
    /// When the last of <paramref name="calls"/> could have been admitted at the earliest, had each gone as
    /// soon as both fixed windows had room, from the first call on. <paramref name="earlier"/> calls made at
    /// <paramref name="earlierAt"/> (before the first of <paramref name="calls"/>) still count in their windows.
    /// </summary>
    public static DateTimeOffset LeastEnd(List<DateTimeOffset> calls, RateLimitSetting organization, RateLimitSetting user, int earlier = 0, DateTimeOffset earlierAt = default)
    {
        var t = calls[0];
        var inOrganization = new Dictionary<long, int>();
        var inUser = new Dictionary<long, int>();
        if (earlier > 0)
        {
            inOrganization[Index(earlierAt, organization.Window)] = earlier;
            inUser[Index(earlierAt, user.Window)] = earlier;
        }

        foreach (var _ in calls)
        {
            while (true)
            {
                var o = Index(t, organization.Window);
                var u = Index(t, user.Window);
                var organizationFull = inOrganization.GetValueOrDefault(o) >= organization.Limit;
                var userFull = inUser.GetValueOrDefault(u) >= user.Limit;
                if (!organizationFull && !userFull)
                {
                    inOrganization[o] = inOrganization.GetValueOrDefault(o) + 1;
                    inUser[u] = inUser.GetValueOrDefault(u) + 1;
                    break;
                }

                var next = DateTimeOffset.MinValue;
                if (organizationFull)
                {
                    next = Start(o + 1, organization.Window);
                }

                if (userFull && Start(u + 1, user.Window) > next)
                {
                    next = Start(u + 1, user.Window);
                }

                t = next;
            }
        }

        return t;
    }

    /// <summary>The index of the window <paramref name="time"/> falls in.</summary>
    public static long Index(DateTimeOffset time, TimeSpan window) => time.ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds;

    /// <summary>When window <paramref name="index"/> starts.</summary>
    public static DateTimeOffset Start(long index, TimeSpan window) => DateTimeOffset.FromUnixTimeMilliseconds(index * (long)window.TotalMilliseconds);
}
