using System.Threading.RateLimiting;

namespace Kiteflow.Server.Security;

/// <summary>
/// Counts failed logins per user name and per client address in fixed windows; once either is spent, every login
/// for that name (or from that address) is refused until the window ends, even with the right password.
/// Successful logins cost nothing.
/// </summary>
internal sealed class LoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perUser;
    private readonly PartitionedRateLimiter<string> _perAddress;

    public LoginThrottle(ServerOptions options)
    {
        _perUser = Create(options.LoginFailuresPerUser, options.LoginWindow);
        _perAddress = Create(options.LoginFailuresPerAddress, options.LoginWindow);
    }

    /// <summary>Null when a login may be tried; else how long to wait (at least a second).</summary>
    public TimeSpan? Refusal(string user, string address)
    {
        // Acquiring 0 permits asks whether any are left without taking one.
        using var userLease = _perUser.AttemptAcquire(UserKey(user), 0);
        using var addressLease = _perAddress.AttemptAcquire(address, 0);
        if (userLease.IsAcquired && addressLease.IsAcquired)
        {
            return null;
        }

        var wait = TimeSpan.FromSeconds(1);
        foreach (var lease in (RateLimitLease[])[userLease, addressLease])
        {
            if (!lease.IsAcquired && lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > wait)
            {
                wait = retryAfter;
            }
        }

        return wait;
    }

    /// <summary>Counts one failed login against the name and the address.</summary>
    public void Failed(string user, string address)
    {
        _perUser.AttemptAcquire(UserKey(user)).Dispose();
        _perAddress.AttemptAcquire(address).Dispose();
    }

    public void Dispose()
    {
        _perUser.Dispose();
        _perAddress.Dispose();
    }

    private static string UserKey(string user) => user.Trim().ToLowerInvariant();

    private static PartitionedRateLimiter<string> Create(int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
}
