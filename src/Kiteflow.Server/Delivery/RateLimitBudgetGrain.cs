using Kiteflow.Delivery.Pacing;
using Orleans.Concurrency;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// Holds one <see cref="RateLimitBudget"/> (the same type a CLI run paces with) for the whole cluster. Reentrant: the
/// budget is thread-safe, and a caller waiting for the local window must not hold up the others.
/// </summary>
[Reentrant]
internal sealed class RateLimitBudgetGrain(TimeProvider time) : Grain, IRateLimitBudgetGrain
{
    private RateLimitBudget? _budget;

    private RateLimitBudget Budget => _budget ??= Create();

    public Task<bool> TryTakeLocalAsync() => Task.FromResult(Budget.TryTakeLocal());

    public async Task<bool> WaitForLocalAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience, time);
        try
        {
            await Budget.WaitForLocalAsync(timeout.Token).ConfigureAwait(true);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public Task<BudgetAnswer> TryEnterAsync(DateTimeOffset now)
    {
        var entry = Budget.TryEnter(now);
        return Task.FromResult(entry.Entered ? new BudgetAnswer { Entered = true, EnteredAt = entry.EnteredAt } : new BudgetAnswer { Until = entry.Hold.Until });
    }

    public Task ReleaseAsync(DateTimeOffset enteredAt)
    {
        Budget.Release(enteredAt);
        return Task.CompletedTask;
    }

    public Task CompleteAsync(DateTimeOffset sentAt, BudgetReading reading)
    {
        Budget.Complete(sentAt, new RateLimitReading(reading.Limit, reading.Remaining, reading.ResetSeconds), reading.RefusedSeconds);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _budget?.Dispose();
        return Task.CompletedTask;
    }

    private RateLimitBudget Create()
    {
        var key = this.GetPrimaryKeyString();
        var user = key.StartsWith(GrainBudgetSource.UserPrefix, StringComparison.Ordinal);
        return new RateLimitBudget(
            user ? RateLimitScope.User : RateLimitScope.Organization,
            key,
            user ? RateLimitBudgets.BuildkiteUserPerMinute : RateLimitBudgets.BuildkiteOrganizationPerMinute,
            time);
    }
}
