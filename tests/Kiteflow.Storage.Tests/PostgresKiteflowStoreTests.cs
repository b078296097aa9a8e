using System.Diagnostics;
using System.Globalization;
using Kiteflow.Storage.Postgres.Connection;
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
    // Bounds each wait on a helper process; they answer in seconds, this only stops a broken run from hanging.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

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

            Assert.Contains("cannot be reached", failed.Message);
            Assert.Contains(expected, failed.Message);
            Assert.Contains(expected, health);
            Assert.StartsWith("postgres://kiteflow@127.0.0.1:", store.Description);
            foreach (var text in new[] { failed.Message, health!, store.Description, store.ConnectionString.ToString() })
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
        var processes = new List<(Process Process, Task<string> Errors)>();
        var lines = new List<(int Worker, string[] Fields)>();
        try
        {
            for (var w = 0; w < workers; w++)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
                start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kiteflow.Testing.StoreAppender.dll"));
                foreach (var argument in new object[] { dataset.Id, w, batches, size, "shared-key" })
                {
                    start.ArgumentList.Add(Convert.ToString(argument, CultureInfo.InvariantCulture)!);
                }

                start.Environment["KITEFLOW_TEST_STORE"] = _connectionString;
                var process = Process.Start(start)!;
                processes.Add((process, process.StandardError.ReadToEndAsync()));
            }

            // Every worker has its store open before any appends: they all start at the same signal.
            foreach (var (process, errors) in processes)
            {
                var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(Patience);
                Assert.True(ready == "ready", $"a worker said '{ready}': {(process.HasExited ? await errors : string.Empty)}");
            }

            foreach (var (process, _) in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync();
            }

            for (var w = 0; w < workers; w++)
            {
                var (process, errors) = processes[w];
                var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(Patience);
                await process.WaitForExitAsync().WaitAsync(Patience);
                Assert.True(process.ExitCode == 0, $"worker {w} exited {process.ExitCode}: {await errors}");
                lines.AddRange(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (w, l.Split(' '))));
            }
        }
        finally
        {
            foreach (var (process, _) in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                process.Dispose();
            }
        }

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

    /// <summary>A new database whose text comparisons follow ICU's en-US collation (the server's default is C).</summary>
    private async Task<string> CreateLocaleDatabaseAsync()
    {
        var name = "kf_store_" + Guid.NewGuid().ToString("N")[..12];
        await using var admin = NpgsqlDataSource.Create(postgres.Server.ConnectionStringFor("postgres"));
        await using var command = admin.CreateCommand($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
        await command.ExecuteNonQueryAsync();
        return PostgresConnectionString.Parse(postgres.Server.ConnectionStringFor(name)).ToNpgsqlConnectionString();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
