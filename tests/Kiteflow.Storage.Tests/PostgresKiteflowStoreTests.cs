using System.Globalization;
using Kiteflow.Storage.Postgres.Migrations;
using Kiteflow.Storage.Postgres.Store;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Storage.Tests;

/// <summary>
/// The store contract on a real PostgreSQL server, and what only PostgreSQL has: appends from several processes,
/// migrations shared with the cluster's tables, errors that never show the password. Each test's database sorts text
/// by an ICU locale (en-US), as a user's database typically does, so a list that comes out byte-wise does so because
/// the store asks for it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresKiteflowStoreTests(PostgresServerFixture postgres) : KiteflowStoreContractTests
{
    private string _connectionString = string.Empty;

    [Fact]
    public async Task Database_ComparesTextByItsLocale_SoByteWiseListsAreTheStoresDoing()
    {
        await using var source = NpgsqlDataSource.Create(_connectionString);
        await using var command = source.CreateCommand("SELECT 'a' < 'B'");

        Assert.True((bool)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task MigrateAsync_StoreStepsFollowTheClusterSteps_AndStoresStartingTogetherApplyThemOnce()
    {
        var fresh = await CreateLocaleDatabaseAsync();
        var stores = Enumerable.Range(0, 4).Select(_ => PostgresKiteflowStore.Open(fresh)).ToList();
        try
        {
            var versions = await Task.WhenAll(stores.Select(s => s.MigrateAsync(CancellationToken.None)));

            Assert.All(versions, v => Assert.Equal(KiteflowPostgresMigrations.All.Count, v));
            Assert.True(KiteflowPostgresMigrations.Store.Version > KiteflowPostgresMigrations.OrleansReminders.Version);
            await using var source = NpgsqlDataSource.Create(fresh);
            await using var command = source.CreateCommand($"SELECT string_agg(version::text, ',' ORDER BY version) FROM {PostgresMigrator.VersionTable}");
            Assert.Equal(string.Join(',', KiteflowPostgresMigrations.All.Select(m => m.Version)), await command.ExecuteScalarAsync());
            Assert.All(await Task.WhenAll(stores.Select(s => s.CheckAsync(CancellationToken.None))), Assert.Null);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task MigrateAsync_ANewerDatabase_IsRefusedWithWhatToDo()
    {
        await using (var source = NpgsqlDataSource.Create(_connectionString))
        await using (var command = source.CreateCommand($"INSERT INTO {PostgresMigrator.VersionTable} (version, name, checksum) VALUES (999, 'from the future', 'x')"))
        {
            await command.ExecuteNonQueryAsync();
        }

        var newer = await Assert.ThrowsAsync<StoreException>(() => Store.MigrateAsync(CancellationToken.None));

        Assert.Contains("newer than this Kiteflow", newer.Message);
    }

    [Fact]
    public async Task WrongPasswordOrNoServer_MigrateAndCheck_SayWhyWithoutThePassword()
    {
        var password = "wrong-" + Guid.NewGuid().ToString("N");
        var wrong = new NpgsqlConnectionStringBuilder(_connectionString) { Password = password }.ConnectionString;
        var nowhere = new NpgsqlConnectionStringBuilder(wrong) { Port = FreePort(), Timeout = 5 }.ConnectionString;

        foreach (var (connectionString, expected) in new[] { (wrong, "password authentication failed"), (nowhere, "Failed to connect") })
        {
            await using var store = PostgresKiteflowStore.Open(connectionString);
            var failed = await Assert.ThrowsAsync<StoreException>(() => store.MigrateAsync(CancellationToken.None));
            var health = await store.CheckAsync(CancellationToken.None);

            // Delivery's calls fail as the store's, so a destination's worker sees a StoreException it waits out.
            var claim = await Assert.ThrowsAsync<StoreException>(() => store.Delivery.ClaimAsync(1, 0, 1, "{}", At, null, CancellationToken.None));
            var ledger = await Assert.ThrowsAsync<StoreException>(() => store.Delivery.Ledger.WriteAsync(
                new() { Run = "d1", FirstPosition = 0, Positions = [0], State = Kiteflow.Delivery.Ledger.BatchState.InFlight, UpdatedAt = At }, durable: true, CancellationToken.None));
            Assert.Contains(expected, claim.Message);
            Assert.Contains(expected, ledger.Message);

            Assert.Contains("cannot be reached", failed.Message);
            Assert.Contains(expected, failed.Message);
            Assert.Contains(expected, health);
            Assert.StartsWith("postgres://kiteflow@127.0.0.1:", store.Description);
            foreach (var text in new[] { failed.Message, health!, store.Description, store.ConnectionString.ToString(), claim.Message, ledger.Message })
            {
                Assert.DoesNotContain(password, text);
            }
        }
    }

    [Fact]
    public async Task AppendAsync_FromSeveralProcessesAtOnce_OffsetsAreDenseAndEachRecordIsStoredOnce()
    {
        const int workers = 4, batches = 20, size = 50;
        var dataset = await NewDatasetAsync("processes");
        var outputs = await StoreProcesses.RunAsync(_connectionString, [.. Enumerable.Range(0, workers).Select(w => new object[] { dataset.Id, w, batches, size, "shared-key" })]);
        var lines = outputs.SelectMany((output, w) => output.Select(l => (Worker: w, Fields: l.Split(' ')))).ToList();

        var stored = await ReadAllAsync(dataset.Id);
        var total = (workers * batches * size) + size;
        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), stored.Select(r => r.Offset));
        var expected = Enumerable.Range(0, workers)
            .SelectMany(w => Enumerable.Range(0, batches).SelectMany(b => Enumerable.Range(0, size).Select(i => $"{{\"w\":{w},\"b\":{b},\"i\":{i}}}")))
            .Concat(SharedRecords(size));
        Assert.Equal(expected.Order(StringComparer.Ordinal), stored.Select(Text).Order(StringComparer.Ordinal));

        // Each append's offsets hold exactly its own records, in order.
        Assert.Equal(workers * (batches + 1), lines.Count);
        foreach (var (worker, fields) in lines.Where(l => l.Fields[4] != "shared"))
        {
            var (first, count, batch) = (long.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[2], CultureInfo.InvariantCulture), fields[4]);
            Assert.Equal("appended", fields[3]);
            Assert.Equal(Enumerable.Range(0, size).Select(i => $"{{\"w\":{worker},\"b\":{batch},\"i\":{i}}}"), stored.Skip((int)first).Take(count).Select(Text));
        }

        // The same idempotency key from every process at once: appended by one, replayed to the others.
        var shared = lines.Where(l => l.Fields[4] == "shared").Select(l => l.Fields).ToList();
        Assert.Equal(workers, shared.Count);
        Assert.Single(shared, f => f[3] == "appended");
        var sharedFirst = Assert.Single(shared.Select(f => f[1]).Distinct());
        Assert.Equal(SharedRecords(size), stored.Skip(int.Parse(sharedFirst, CultureInfo.InvariantCulture)).Take(size).Select(Text));
    }

    protected override async Task<IKiteflowStore> CreateStoreAsync()
    {
        _connectionString = await CreateLocaleDatabaseAsync();
        return PostgresKiteflowStore.Open(_connectionString);
    }

    protected override Task<IKiteflowStore> ReopenAsync() => Task.FromResult<IKiteflowStore>(PostgresKiteflowStore.Open(_connectionString));

    private static IEnumerable<string> SharedRecords(int size) => Enumerable.Range(0, size).Select(i => $"{{\"shared\":true,\"i\":{i}}}");

    private Task<string> CreateLocaleDatabaseAsync() => LocaleDatabases.CreateAsync(postgres);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
