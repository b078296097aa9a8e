using System.Diagnostics;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresDatabaseTests(PostgresServerFixture postgres)
{
    [Fact]
    public async Task Session_IdleInsideATransaction_IsEndedByTheServer_AndItsRowLockFreed()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        await using (var table = db.DataSource.CreateCommand("CREATE TABLE fence (id int PRIMARY KEY, epoch int NOT NULL); INSERT INTO fence VALUES (1, 1)"))
        {
            await table.ExecuteNonQueryAsync();
        }

        // A process that took a row lock and then stopped sending anything (paused with SIGSTOP, say).
        await using var paused = await database.DataSource.OpenConnectionAsync();
        Assert.Equal("10s", (string)(await new NpgsqlCommand("SHOW idle_in_transaction_session_timeout", paused).ExecuteScalarAsync())!);
        await using var stale = await paused.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT epoch FROM fence WHERE id = 1 FOR UPDATE", paused, stale))
        {
            await lockRow.ExecuteScalarAsync();
        }

        // Another process's write of that row waits for the lock, and gets it once the server ended the idle session.
        var clock = Stopwatch.StartNew();
        await using (var takeOver = database.DataSource.CreateCommand("UPDATE fence SET epoch = epoch + 1 WHERE id = 1"))
        {
            takeOver.CommandTimeout = 120;
            Assert.Equal(1, await takeOver.ExecuteNonQueryAsync());
        }

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(9), $"the write did not wait for the lock ({clock.Elapsed})");
        await Assert.ThrowsAnyAsync<Exception>(() => new NpgsqlCommand("SELECT 1", paused, stale).ExecuteScalarAsync());
        Assert.Equal(2, await db.ScalarAsync<int>("SELECT epoch FROM fence WHERE id = 1"));
    }
}
