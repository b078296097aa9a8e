using System.Globalization;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Storage.Postgres.Store;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Storage.Tests;

/// <summary>
/// The delivery side of the store contract on a real PostgreSQL server (a database sorting text by ICU's en-US), and
/// what only a shared server has: claims and restarts from several processes, connections the server breaks, failed
/// writes nobody waited for.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresDeliveryStoreTests(PostgresServerFixture postgres) : DeliveryStoreContractTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private string _connectionString = string.Empty;

    [Fact]
    public async Task Claim_FromSeveralProcessesAtOnce_EachStretchIsClaimedByOneProcess()
    {
        const int workers = 4, stretches = 100;

        var outputs = await StoreProcesses.RunAsync(_connectionString, [.. Enumerable.Range(0, workers).Select(_ => new object[] { "claim", 21, stretches })]);

        // Every process tried every stretch: one claimed it, each of the others was refused.
        var lines = outputs.SelectMany(o => o).Select(l => l.Split(' ')).ToList();
        var claimed = lines.Where(l => l[0] == "claimed").Select(l => long.Parse(l[1], CultureInfo.InvariantCulture)).Order();
        Assert.Equal(Enumerable.Range(0, stretches).Select(i => (long)i), claimed);
        Assert.Equal((workers - 1) * stretches, lines.Count(l => l[0] == "refused"));
        var progress = await Store.Delivery.GetProgressAsync(21, CancellationToken.None);
        Assert.Equal((stretches, (long?)null, (long)stretches), (progress.Cursor, progress.ClaimFrom, progress.Totals.Delivered));
    }

    [Fact]
    public async Task Ledger_TwoProcessesRestartingOneRunAtOnce_EachRestartIsAGeneration()
    {
        await using var other = PostgresKiteflowStore.Open(_connectionString);
        await Store.Delivery.Ledger.WriteAsync(Entry("twice", 0, BatchState.Delivered), durable: true, CancellationToken.None);

        await Task.WhenAll(
            Task.Run(() => Store.Delivery.Ledger.RestartAsync("twice", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None)),
            Task.Run(() => other.Delivery.Ledger.RestartAsync("twice", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None)));

        Assert.Equal(2, await Store.Delivery.Ledger.GenerationAsync("twice", CancellationToken.None));
        Assert.Equal(2, await other.Delivery.Ledger.GenerationAsync("twice", CancellationToken.None));
    }

    [Fact]
    public async Task Ledger_AWriteNobodyWaitedForFails_TheNextFlushReportsItOnce_AndLaterWritesAreKept()
    {
        await ExecuteAsync("ALTER TABLE ledger ADD CONSTRAINT refuse_attempts CHECK (attempts < 100)");

        await Store.Delivery.Ledger.WriteAsync(Entry("fails", 0, BatchState.Delivered) with { Attempts = 100 }, durable: false, CancellationToken.None);
        var failed = await Assert.ThrowsAsync<StoreException>(() => Store.Delivery.Ledger.FlushAsync(CancellationToken.None));

        Assert.Contains("refuse_attempts", failed.Message);
        Assert.DoesNotContain(postgres.Server.Password, failed.Message);
        await Store.Delivery.Ledger.FlushAsync(CancellationToken.None);
        await Store.Delivery.Ledger.WriteAsync(Entry("fails", 1, BatchState.Delivered), durable: false, CancellationToken.None);
        Assert.Equal(1, await Store.Delivery.Ledger.CountAsync("fails", CancellationToken.None));
        Assert.Null(await Store.Delivery.Ledger.FindAsync("fails", 0, CancellationToken.None));
    }

    [Fact]
    public async Task Ledger_ConnectionsTheServerEnded_TheNextWritesAreMadeOnNewOnes()
    {
        // Every connection of the store's pool is open and idle when the server ends them (a restart, a failover, an admin).
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Store.Delivery.Ledger.WriteAsync(Entry("ended", i, BatchState.Pending), durable: true, CancellationToken.None)));
        await ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");

        await Store.Delivery.Ledger.WriteAsync(Entry("ended", 0, BatchState.Delivered), durable: false, CancellationToken.None);
        await Store.Delivery.Ledger.WriteAsync(Entry("ended", 1, BatchState.Delivered), durable: true, CancellationToken.None);
        await Store.Delivery.Ledger.FlushAsync(CancellationToken.None);

        Assert.Equal(BatchState.Delivered, (await Store.Delivery.Ledger.FindAsync("ended", 0, CancellationToken.None))!.State);
        Assert.Equal(BatchState.Delivered, (await Store.Delivery.Ledger.FindAsync("ended", 1, CancellationToken.None))!.State);
    }

    protected override async Task<IKiteflowStore> CreateStoreAsync()
    {
        _connectionString = await LocaleDatabases.CreateAsync(postgres);
        return PostgresKiteflowStore.Open(_connectionString);
    }

    protected override Task<IKiteflowStore> ReopenAsync() => Task.FromResult<IKiteflowStore>(PostgresKiteflowStore.Open(_connectionString));

    private static LedgerEntry Entry(string run, long first, BatchState state) => new()
    {
        Run = run,
        FirstPosition = first,
        Positions = [first],
        State = state,
        Attempts = 1,
        UpdatedAt = At,
    };

    private async Task ExecuteAsync(string sql)
    {
        await using var source = NpgsqlDataSource.Create(_connectionString);
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
