namespace Kiteflow.Sandbox.RateLimiting;

/// <summary>The state of one limit for one key (an organization or a user) as the headers report it.</summary>
internal readonly record struct RateLimitSnapshot(int Limit, int Current, int Remaining, int ResetSeconds, DateTimeOffset ResetAt)
{
    public bool Exhausted => Remaining <= 0;
}

/// <summary>The outcome of counting one request against both limits.</summary>
internal readonly record struct RateLimitDecision(bool Allowed, string? ExceededScope, RateLimitSnapshot Organization, RateLimitSnapshot User);

/// <summary>
/// Counts requests per organization and per user, the two limits Buildkite applies to every request.
/// </summary>
/// <remarks>
/// Hand-rolled rather than built on System.Threading.RateLimiting because Buildkite's semantics do not map
/// onto it: one request must be admitted by both limits or by neither (a chained limiter would spend the
/// first limiter's permit when the second refuses, and window permits cannot be given back); the headers
/// need the current count, which may exceed the limit (the documented 429 shows <c>"current": 55</c> for a
/// limit of 50), and the seconds to the window's reset, which the library's limiters do not expose; and
/// the library's windows run on their own timers and Stopwatch, not on an injected <see cref="TimeProvider"/>
/// (dotnet/runtime#106447), so tests could not move time. The counter is a few integers per key under one lock.
/// </remarks>
internal sealed class RateLimitTracker(RateLimitSetting organization, RateLimitSetting user, RateLimitWindowKind kind, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Window> _organizations = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Window> _users = new(StringComparer.Ordinal);

    public RateLimitSetting OrganizationSetting { get; } = organization;

    public RateLimitSetting UserSetting { get; } = user;

    /// <summary>Counts one request against both limits; admitted only when both have room.</summary>
    public RateLimitDecision Acquire(string organizationKey, string userKey)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var org = Get(_organizations, organizationKey, OrganizationSetting);
            var usr = Get(_users, userKey, UserSetting);
            org.Advance(now);
            usr.Advance(now);
            var userFull = usr.Admitted >= UserSetting.Limit;
            var orgFull = org.Admitted >= OrganizationSetting.Limit;
            var allowed = !userFull && !orgFull;
            if (allowed)
            {
                org.Admit(now);
                usr.Admit(now);
            }
            else
            {
                org.Refuse();
                usr.Refuse();
            }

            return new RateLimitDecision(allowed, userFull ? "rest_user" : orgFull ? "rest" : null, org.Snapshot(now), usr.Snapshot(now));
        }
    }

    /// <summary>Reads both limits without counting a request (for answers to requests that are not counted).</summary>
    public (RateLimitSnapshot Organization, RateLimitSnapshot User) Peek(string organizationKey, string? userKey)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var org = Get(_organizations, organizationKey, OrganizationSetting);
            org.Advance(now);
            if (userKey is null)
            {
                return (org.Snapshot(now), new Window(UserSetting, kind).Snapshot(now));
            }

            var usr = Get(_users, userKey, UserSetting);
            usr.Advance(now);
            return (org.Snapshot(now), usr.Snapshot(now));
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _organizations.Clear();
            _users.Clear();
        }
    }

    private Window Get(Dictionary<string, Window> windows, string key, RateLimitSetting setting)
    {
        if (!windows.TryGetValue(key, out var window))
        {
            window = new Window(setting, kind);
            windows[key] = window;
        }

        return window;
    }

    /// <summary>One key's window. Fixed windows are aligned to multiples of their length since the Unix epoch.</summary>
    private sealed class Window(RateLimitSetting setting, RateLimitWindowKind kind)
    {
        // Sliding windows keep the admission times of at most Limit requests: memory stays bounded.
        private readonly Queue<DateTimeOffset> _admissions = new();
        private long _windowIndex = long.MinValue;
        private int _refused;

        public int Admitted { get; private set; }

        public void Advance(DateTimeOffset now)
        {
            if (kind == RateLimitWindowKind.Fixed)
            {
                var index = now.ToUnixTimeMilliseconds() / (long)setting.Window.TotalMilliseconds;
                if (index != _windowIndex)
                {
                    _windowIndex = index;
                    Admitted = 0;
                    _refused = 0;
                }

                return;
            }

            while (_admissions.Count > 0 && _admissions.Peek() + setting.Window <= now)
            {
                _admissions.Dequeue();
            }

            Admitted = _admissions.Count;
            _refused = 0;
        }

        public void Admit(DateTimeOffset now)
        {
            Admitted++;
            if (kind == RateLimitWindowKind.Sliding)
            {
                _admissions.Enqueue(now);
            }
        }

        // A refused request shows in "current" (as in Buildkite's documented 429) but takes no slot, so the
        // reset it announces is honoured even for a client that keeps asking.
        public void Refuse() => _refused++;

        public RateLimitSnapshot Snapshot(DateTimeOffset now)
        {
            DateTimeOffset resetAt;
            if (kind == RateLimitWindowKind.Fixed)
            {
                var length = (long)setting.Window.TotalMilliseconds;
                var index = _windowIndex == long.MinValue ? now.ToUnixTimeMilliseconds() / length : _windowIndex;
                resetAt = DateTimeOffset.FromUnixTimeMilliseconds((index + 1) * length);
            }
            else
            {
                resetAt = _admissions.Count > 0 ? _admissions.Peek() + setting.Window : now + setting.Window;
            }

            var seconds = (int)Math.Ceiling((resetAt - now).TotalSeconds);
            var current = Admitted + _refused;
            return new RateLimitSnapshot(setting.Limit, current, Math.Max(0, setting.Limit - Admitted), Math.Max(seconds, 0), resetAt);
        }
    }
}
