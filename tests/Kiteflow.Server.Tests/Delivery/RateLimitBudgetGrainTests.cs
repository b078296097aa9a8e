using Kiteflow.Server.Delivery;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// The budget grains every destination of an organization (or token user) shares: before the first answer nothing is
/// known of the limit or of what the window has spent, so one request goes first and the others wait for its answer —
/// else destinations that start together (an activation of several, a restart) burst past a spent window at once.
/// </summary>
public sealed class RateLimitBudgetGrainTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(o => o.EmbeddedSandbox = false);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task TryEnterAsync_BeforeTheFirstAnswer_OneRequestAtATime()
    {
        var budget = Budget();
        var now = DateTimeOffset.UtcNow;

        var first = await budget.TryEnterAsync(now);
        var second = await budget.TryEnterAsync(now);
        await budget.CompleteAsync(now, new BudgetReading { Limit = 20, Remaining = 15, ResetSeconds = 60 });
        var afterAnswer = await Task.WhenAll(budget.TryEnterAsync(now), budget.TryEnterAsync(now), budget.TryEnterAsync(now));

        Assert.True(first.Entered);
        Assert.False(second.Entered);
        Assert.All(afterAnswer, a => Assert.True(a.Entered));
    }

    [Fact]
    public async Task TryEnterAsync_TheFirstRequestWasNotSent_TheNextGoes()
    {
        var budget = Budget();
        var now = DateTimeOffset.UtcNow;

        Assert.True((await budget.TryEnterAsync(now)).Entered);
        await budget.ReleaseAsync(now);

        Assert.True((await budget.TryEnterAsync(now)).Entered);
    }

    /// <summary>
    /// The first request's answer can be lost for good — its worker's silo killed during a failover — and then every
    /// destination of the organization waited for ever (a cluster chaos test: a destination moved to a new silo sent
    /// nothing for five minutes). After a while without that answer, another request goes first.
    /// </summary>
    [Fact]
    public async Task TryEnterAsync_TheFirstRequestsAnswerNeverComes_AnotherGoesAfterAWhile()
    {
        var budget = Budget();
        var now = DateTimeOffset.UtcNow;

        Assert.True((await budget.TryEnterAsync(now)).Entered);
        var soon = await budget.TryEnterAsync(now + TimeSpan.FromSeconds(1));
        var later = await budget.TryEnterAsync(now + RateLimitBudgetGrain.FirstAnswerPatience);
        var right = await budget.TryEnterAsync(now + RateLimitBudgetGrain.FirstAnswerPatience);

        Assert.False(soon.Entered);
        Assert.True(later.Entered);
        Assert.False(right.Entered);
    }

    private IRateLimitBudgetGrain Budget() =>
        _server.Service<IGrainFactory>().GetGrain<IRateLimitBudgetGrain>($"{GrainBudgetSource.OrganizationPrefix}api.example|org-{Guid.NewGuid():N}");
}
