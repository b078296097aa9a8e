using System.Threading.RateLimiting;

namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// Paces requests to one Buildkite organization under both of its limits (SPEC §4). Two layers:
/// a local budget (System.Threading.RateLimiting sliding windows for the organization's and the user's
/// requests per minute) that holds before the server has said anything, and the server's own word:
/// every response's <c>RateLimit-*</c> headers say how many calls are left and when the window resets.
/// A request is let through only while the calls left exceed those already in flight, so with several
/// requests in flight the pacer slows before the limit instead of collecting 429s; when nothing is
/// left it waits for the reset (plus jitter). After a 429 everyone waits for the reset it names.
/// </summary>
internal sealed class BuildkitePacer : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly RateLimiter? _organization;
    private readonly RateLimiter? _user;
    private readonly RateLimiter[] _limiters;
    private readonly Lock _lock = new();
    private int _inFlight;
    private int? _remaining;
    private DateTimeOffset _resetAt;
    private long _waits;

    /// <param name="organizationPerMinute">The organization's requests per minute; null turns pacing off.</param>
    /// <param name="userPerMinute">The token user's requests per minute; null turns pacing off.</param>
    /// <param name="time">The clock.</param>
    public BuildkitePacer(int? organizationPerMinute, int? userPerMinute, TimeProvider time)
    {
        _time = time;
        _organization = organizationPerMinute is { } o ? CreateWindow(o) : null;
        _user = userPerMinute is { } u ? CreateWindow(u) : null;
        _limiters = new[] { _organization, _user }.OfType<RateLimiter>().ToArray();
        Enabled = _limiters.Length > 0;
    }

    /// <summary>Whether pacing is on.</summary>
    public bool Enabled { get; }

    /// <summary>How many times a request waited for a rate-limit window.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Waits until a request may go. Dispose the result when its response (or failure) is in.</summary>
    public async ValueTask<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return default;
        }

        var waited = false;
        foreach (var limiter in _limiters)
        {
            using var lease = limiter.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                waited = true;
                using var queued = await limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
            }
        }

        while (true)
        {
            TimeSpan delay;
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                if (_remaining is not null && now >= _resetAt)
                {
                    _remaining = null;  // the window has reset: the next response says what is left
                }

                if (_remaining is not { } remaining || remaining - _inFlight > 0)
                {
                    _inFlight++;
                    break;
                }

                delay = _resetAt - now + Jitter();
            }

            waited = true;
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }

        if (waited)
        {
            Interlocked.Increment(ref _waits);
        }

        return new Lease(this);
    }

    /// <summary>Takes in what a response said about the limits.</summary>
    public void Observe(RateLimitHeaders headers, bool rateLimited)
    {
        if (!Enabled)
        {
            return;
        }

        var remaining = Min(headers.Remaining, headers.UserRemaining);
        var reset = rateLimited ? headers.ExhaustedResetSeconds ?? Max(headers.ResetSeconds, headers.UserResetSeconds) : Max(headers.ResetSeconds, headers.UserResetSeconds);
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (rateLimited)
            {
                // Nothing is left until the reset the 429 names.
                _remaining = 0;
                _resetAt = now + TimeSpan.FromSeconds(reset ?? 1);
                return;
            }

            if (remaining is { } r && reset is { } seconds)
            {
                // r already counts this response's own request; the others in flight may not be counted
                // yet, so a new request may go while r exceeds them (checked once this one is released).
                // Responses arrive out of order, so within one window the smallest count is the truth;
                // a later reset means a new window.
                var resetAt = now + TimeSpan.FromSeconds(seconds);
                var newWindow = _remaining is null || now >= _resetAt || resetAt > _resetAt + TimeSpan.FromSeconds(1);
                if (newWindow || r < _remaining)
                {
                    _remaining = r;
                    _resetAt = newWindow ? resetAt : _resetAt;
                }
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_organization is not null)
        {
            await _organization.DisposeAsync().ConfigureAwait(false);
        }

        if (_user is not null)
        {
            await _user.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Release()
    {
        lock (_lock)
        {
            _inFlight--;
        }
    }

    // Enough to spread several clients of one organization; small next to a window.
    private static TimeSpan Jitter() => TimeSpan.FromMilliseconds(Random.Shared.Next(20, 100));

    private static SlidingWindowRateLimiter CreateWindow(int perMinute) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = perMinute,
        Window = TimeSpan.FromMinutes(1),
        SegmentsPerWindow = 12,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });

    private static int? Min(int? a, int? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private static int? Max(int? a, int? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    /// <summary>A request's place in flight; dispose it when the request is done.</summary>
    internal readonly struct Lease(BuildkitePacer? pacer) : IDisposable
    {
        public void Dispose() => pacer?.Release();
    }
}
