using Kiteflow.Delivery.Pacing;
using Orleans.Concurrency;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// Holds one <see cref="RateLimitBudget"/> (the same type a CLI run paces with) for the whole cluster. Reentrant: the
/// budget is thread-safe, and a caller waiting for the local window must not hold up the others.
/// </summary>
/// <remarks>
/// Until the first answer the budget knows neither the limit nor what the current window has already spent (by the
/// activations' token checks, by another client, by this server before it restarted), while every destination of the
/// organization or user asks at once — together far more than one CLI run's concurrency. So one request goes first
/// and the others wait for its answer (they look again every 100 ms); from then on the budget paces them all. The first
/// request's answer may never come here — its silo killed, its worker stopped — so after
/// <see cref="FirstAnswerPatience"/> without one, another request goes first.
/// </remarks>
[Reentrant]
internal sealed class RateLimitBudgetGrain(TimeProvider time) : Grain, IRateLimitBudgetGrain
{
    private RateLimitBudget? _budget;
    /// <summary>How long the others wait for the first request's answer before another request goes first.</summary>
    internal static readonly TimeSpan FirstAnswerPatience = TimeSpan.FromSeconds(10);

    private bool _answered;
    private int _unanswered;
    private DateTimeOffset _firstSentAt;

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
        if (!_answered && _unanswered > 0)
        {
            if (now - _firstSentAt < FirstAnswerPatience)
            {
                // The first request is still out: wait for what its answer says.
                return Task.FromResult(new BudgetAnswer());
            }

            // Its answer is not coming (a silo killed during failover left this count behind for good): the next goes.
            _unanswered = 0;
        }

        var entry = Budget.TryEnter(now);
        if (!entry.Entered)
        {
            return Task.FromResult(new BudgetAnswer { Until = entry.Hold.Until });
        }

        if (!_answered)
        {
            _unanswered++;
            _firstSentAt = now;
        }

        return Task.FromResult(new BudgetAnswer { Entered = true, EnteredAt = entry.EnteredAt });
    }

    public Task ReleaseAsync(DateTimeOffset enteredAt)
    {
        if (!_answered && _unanswered > 0)
        {
            _unanswered--;
        }

        Budget.Release(enteredAt);
        return Task.CompletedTask;
    }

    public Task CompleteAsync(DateTimeOffset sentAt, BudgetReading reading)
    {
        _answered = true;
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
