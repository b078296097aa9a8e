using Kiteflow.Sandbox.Api;
using Kiteflow.Sandbox.Faulting;
using Kiteflow.Sandbox.Inspection;
using Kiteflow.Sandbox.RateLimiting;
using Kiteflow.Sandbox.Seeding;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Hosting;

/// <summary>Everything one running sandbox holds: its world, limits, faults and request log.</summary>
internal sealed class SandboxRuntime : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    public SandboxRuntime(SandboxOptions options, SeedDocument seed)
    {
        Options = options;
        Seed = seed;
        Store = new SandboxStore(options.TimeProvider, new IdGenerator(options.RandomSeed));
        RateLimits = new RateLimitTracker(options.OrganizationLimit, options.UserLimit, options.RateLimitWindow, options.TimeProvider);
        Faults = new FaultInjector(options.RandomSeed);
        Log = new RequestLog(options.RequestLogCapacity);
        lock (Store.Gate)
        {
            SeedLoader.Load(Store, seed, options.Tokens);
        }
    }

    public SandboxOptions Options { get; }

    public SeedDocument Seed { get; }

    public SandboxStore Store { get; }

    public RateLimitTracker RateLimits { get; }

    public FaultInjector Faults { get; }

    public RequestLog Log { get; }

    public Urls Urls { get; } = new();

    /// <summary>Cancelled when the sandbox stops, so hung and delayed requests end at once.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Restores the seed (and the tokens of the options) and clears the rate-limit windows.</summary>
    public void Reset()
    {
        lock (Store.Gate)
        {
            SeedLoader.Load(Store, Seed, Options.Tokens);
        }

        RateLimits.Clear();
    }

    public void SignalStopping() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();
}
