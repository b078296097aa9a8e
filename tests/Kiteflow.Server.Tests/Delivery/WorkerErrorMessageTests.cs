using Kiteflow.Server.Delivery;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>What a destination's status says held its worker up: never Orleans' internal addresses and method names.</summary>
public sealed class WorkerErrorMessageTests
{
    private const string Internals = "Request [S127.0.0.1:11112:155118300 ratelimitbudget/org|127.0.0.1:44143|acme]->[S127.0.0.1:11113:155118301] Kiteflow.Server.Delivery.IRateLimitBudgetGrain.TryEnterAsync(). See https://aka.ms/orleans-troubleshooting";

    public static TheoryData<Exception, string> Errors => new()
    {
        { new SiloUnavailableException($"The target silo became unavailable for message: {Internals}"), "a silo of the cluster it was talking to left" },
        { new OrleansException($"Something internal: {Internals}"), "the cluster could not answer (OrleansException)" },
        { new TimeoutException($"Response did not arrive on time in 00:00:30 for message: {Internals}"), "a silo of the cluster did not answer in time" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void ClusterErrors_SayWhatHappened_WithoutOrleansInternals(Exception error, string expected)
    {
        var message = DestinationWorker.ErrorMessage(error);

        Assert.StartsWith(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain("S127.0.0.1", message, StringComparison.Ordinal);
        Assert.DoesNotContain("aka.ms", message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherErrors_KeepTheirOwnMessage()
    {
        Assert.Equal("the dataset 'ds' was deleted", DestinationWorker.ErrorMessage(new InvalidOperationException("the dataset 'ds' was deleted")));
    }
}
