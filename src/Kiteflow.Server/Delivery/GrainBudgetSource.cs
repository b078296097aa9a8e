using Kiteflow.Delivery.Pacing;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// The rate-limit budgets of every destination and test send of the cluster: one <see cref="IRateLimitBudgetGrain"/>
/// per organization and one per token user, on one API host. A request takes a place in both.
/// </summary>
internal sealed class GrainBudgetSource(IGrainFactory grains, TimeProvider time, string apiHost) : IRateLimitBudgetSource
{
    public const string OrganizationPrefix = "org|";
    public const string UserPrefix = "user|";

    public IRateLimitBudget Organization(string slug) =>
        new GrainBudget(grains.GetGrain<IRateLimitBudgetGrain>($"{OrganizationPrefix}{apiHost}|{slug}"), RateLimitScope.Organization, slug, time);

    public IRateLimitBudget User(string key) =>
        new GrainBudget(grains.GetGrain<IRateLimitBudgetGrain>($"{UserPrefix}{apiHost}|{key}"), RateLimitScope.User, key, time);

    /// <summary>A budget grain seen as the pacer sees a budget.</summary>
    private sealed class GrainBudget(IRateLimitBudgetGrain grain, RateLimitScope scope, string key, TimeProvider time) : IRateLimitBudget
    {
        // A grain's budget cannot hand out an in-process signal for "an answer came in": a held request looks
        // again after this long, or at the reset it was told, whichever is first.
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan LocalPatience = TimeSpan.FromSeconds(10);

        public RateLimitScope Scope => scope;

        public string Key => key;

        public async ValueTask<bool> TryTakeLocalAsync(CancellationToken cancellationToken) => await grain.TryTakeLocalAsync().WaitAsync(cancellationToken).ConfigureAwait(false);

        public async Task WaitForLocalAsync(CancellationToken cancellationToken)
        {
            while (!await grain.WaitForLocalAsync(LocalPatience).WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        public async ValueTask<RateLimitEntry> TryEnterAsync(DateTimeOffset now, CancellationToken cancellationToken)
        {
            var answer = await grain.TryEnterAsync(now).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (answer.Entered)
            {
                return RateLimitEntry.At(answer.EnteredAt);
            }

            var look = answer.Until is { } until && until - time.GetUtcNow() < Poll ? until - time.GetUtcNow() : Poll;
            return RateLimitEntry.Held(new RateLimitHold(scope, answer.Until, Task.Delay(look > TimeSpan.Zero ? look : TimeSpan.Zero, time, cancellationToken)));
        }

        public async ValueTask ReleaseAsync(DateTimeOffset enteredAt) => await grain.ReleaseAsync(enteredAt).ConfigureAwait(false);

        public async ValueTask CompleteAsync(DateTimeOffset sentAt, RateLimitReading reading, int? refusedSeconds) =>
            await grain.CompleteAsync(sentAt, new BudgetReading { Limit = reading.Limit, Remaining = reading.Remaining, ResetSeconds = reading.ResetSeconds, RefusedSeconds = refusedSeconds }).ConfigureAwait(false);
    }
}
