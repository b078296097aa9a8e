using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Ledger;

namespace Kiteflow.Delivery.Tests.Delivery;

public sealed class FailingLedgerTests
{
    [Fact]
    public async Task Run_LedgerCannotBeWritten_StopsWithTheLedgersError_NotACancellation()
    {
        await using var run = await SandboxRun.StartAsync();
        var (settings, _) = DestinationSettingsReader.Read(SandboxRun.TriggerBuilds);
        var destination = Destination.Compile(settings, new PlannerOptions { ApiBase = run.Sandbox.BaseAddress, KeepRecordText = true }).Destination!;
        var runner = new DeliveryRunner(destination, new Credential("sandbox", Kiteflow.Sandbox.SandboxServer.DefaultToken, run.Sandbox.BaseAddress, DateTimeOffset.UtcNow), new BrokenLedger(), new DeliveryOptions { RunKey = "broken" });
        using var reader = RecordReader.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(SandboxRun.BuildRecords(50))), InputFormat.JsonLines);

        var e = await Assert.ThrowsAsync<IOException>(() => runner.RunAsync(reader, CancellationToken.None));

        Assert.Equal("disk full", e.Message);
        Assert.Empty(run.Builds());  // nothing is sent that could not be marked in flight first
    }

    private sealed class BrokenLedger : IDeliveryLedger
    {
        public Task<long> CountAsync(string run, CancellationToken cancellationToken) => Task.FromResult(0L);

        public Task<LedgerEntry?> FindAsync(string run, long firstPosition, CancellationToken cancellationToken) => Task.FromResult<LedgerEntry?>(null);

        public Task WriteAsync(LedgerEntry entry, bool durable, CancellationToken cancellationToken) => Task.FromException(new IOException("disk full"));

        public Task WriteAllAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken) => Task.FromException(new IOException("disk full"));

        public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<int> GenerationAsync(string run, CancellationToken cancellationToken) => Task.FromResult(0);

        public Task<long> RestartAsync(string run, bool resendDelivered, bool lookUpPossiblyDelivered, CancellationToken cancellationToken) => Task.FromException<long>(new IOException("disk full"));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
