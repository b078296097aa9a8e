using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Storage.Postgres.Migrations;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Tests.Migrations;

[Collection(PostgresCollection.Name)]
public sealed class PostgresMigratorTests(PostgresServerFixture postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task MigrateAsync_FreshDatabase_AppliesEveryStepAndRecordsIt()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);

        var result = await new PostgresMigrator(db.ConnectionString, KiteflowPostgresMigrations.All).MigrateAsync();

        Assert.Equal(0, result.VersionBefore);
        Assert.Equal(KiteflowPostgresMigrations.All.Count, result.VersionAfter);
        Assert.Equal(KiteflowPostgresMigrations.All.Select(m => m.Version), result.Applied);
        Assert.Equal(KiteflowPostgresMigrations.All.Select(m => m.Name), await db.ColumnAsync<string>("SELECT name FROM kiteflow_schema_version ORDER BY version"));
        Assert.Equal(KiteflowPostgresMigrations.All.Select(m => m.Checksum), await db.ColumnAsync<string>("SELECT checksum FROM kiteflow_schema_version ORDER BY version"));
        foreach (var table in new[] { "orleans_membership_version", "orleans_membership", "orleans_reminders" })
        {
            Assert.True(await db.ScalarAsync<bool>("SELECT to_regclass($1) IS NOT NULL", table), table);
        }
    }

    [Fact]
    public async Task MigrateAsync_Repeated_AppliesNothing()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        var migrator = new PostgresMigrator(db.ConnectionString, KiteflowPostgresMigrations.All);
        await migrator.MigrateAsync();

        var again = await migrator.MigrateAsync();
        var another = await new PostgresMigrator(db.ConnectionString, KiteflowPostgresMigrations.All).MigrateAsync();

        Assert.Empty(again.Applied);
        Assert.Empty(another.Applied);
        Assert.Equal(again.VersionBefore, again.VersionAfter);
        Assert.Equal(KiteflowPostgresMigrations.All.Count, await db.ScalarAsync<long>("SELECT count(*) FROM kiteflow_schema_version"));
    }

    [Fact]
    public async Task MigrateAsync_NewStepAdded_AppliesOnlyThatStep()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await new PostgresMigrator(db.ConnectionString, Steps(2)).MigrateAsync();

        var result = await new PostgresMigrator(db.ConnectionString, Steps(3)).MigrateAsync();

        Assert.Equal(2, result.VersionBefore);
        Assert.Equal([3], result.Applied);
        Assert.Equal([1, 2, 3], await db.ColumnAsync<int>("SELECT step FROM applied_log ORDER BY step"));
    }

    [Fact]
    public async Task MigrateAsync_TwoMigratorsAtOnce_ApplyEachStepOnce()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        using var timeout = new CancellationTokenSource(Patience);

        // Hold the migrators' lock so both are sure to be waiting for it at the same time, then let go.
        await using var holder = await db.DataSource.OpenConnectionAsync(timeout.Token);
        await Execute(holder, $"SELECT pg_advisory_lock({PostgresMigrator.AdvisoryLockKey})");
        var first = Task.Run(() => new PostgresMigrator(db.ConnectionString, Steps(3)).MigrateAsync(timeout.Token));
        var second = Task.Run(() => new PostgresMigrator(db.ConnectionString, Steps(3)).MigrateAsync(timeout.Token));
        await WaitForAsync(
            async () => await db.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 2,
            () => first.IsCompleted || second.IsCompleted ? "a migrator finished without waiting for the lock" : null,
            timeout.Token);
        await Execute(holder, $"SELECT pg_advisory_unlock({PostgresMigrator.AdvisoryLockKey})");
        var results = await Task.WhenAll(first, second);

        Assert.Single(results, r => r.Applied.SequenceEqual([1, 2, 3]));
        Assert.Single(results, r => r.Applied.Count == 0 && r.VersionBefore == 3);
        Assert.Equal([1, 2, 3], await db.ColumnAsync<int>("SELECT step FROM applied_log ORDER BY step"));
        Assert.Equal([1, 2, 3], await db.ColumnAsync<int>("SELECT version FROM kiteflow_schema_version ORDER BY version"));
    }

    [Fact]
    public async Task MigrateAsync_StepFails_RollsItBackAndKeepsTheStepsBefore()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        PostgresMigration[] broken =
        [
            new(1, "a", "CREATE TABLE a (x int)"),
            new(2, "b", "CREATE TABLE b (x int); SELECT 1 / 0"),
        ];

        var error = await Assert.ThrowsAsync<PostgresMigrationException>(() => new PostgresMigrator(db.ConnectionString, broken).MigrateAsync());

        Assert.Contains("2 (b)", error.Message, StringComparison.Ordinal);
        Assert.Contains("division by zero", error.Message, StringComparison.Ordinal);
        Assert.Equal([1], await db.ColumnAsync<int>("SELECT version FROM kiteflow_schema_version"));
        Assert.False(await db.ScalarAsync<bool>("SELECT to_regclass('b') IS NOT NULL"));

        PostgresMigration[] fixedSteps = [broken[0], new(2, "b", "CREATE TABLE b (x int)")];
        var result = await new PostgresMigrator(db.ConnectionString, fixedSteps).MigrateAsync();
        Assert.Equal([2], result.Applied);
    }

    [Fact]
    public async Task MigrateAsync_DatabaseNewerThanThisKiteflow_Refuses()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await new PostgresMigrator(db.ConnectionString, Steps(3)).MigrateAsync();

        var error = await Assert.ThrowsAsync<PostgresMigrationException>(() => new PostgresMigrator(db.ConnectionString, Steps(2)).MigrateAsync());

        Assert.Contains("version 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAsync_AppliedStepEdited_Refuses()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await new PostgresMigrator(db.ConnectionString, Steps(2)).MigrateAsync();
        PostgresMigration[] edited = [Steps(2)[0], new(2, "step 2", "INSERT INTO applied_log VALUES (22)")];

        var error = await Assert.ThrowsAsync<PostgresMigrationException>(() => new PostgresMigrator(db.ConnectionString, edited).MigrateAsync());

        Assert.Contains("2 (step 2)", error.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2], await db.ColumnAsync<int>("SELECT step FROM applied_log ORDER BY step"));
    }

    [Fact]
    public async Task MigrateAsync_WrongPassword_FailsWithoutShowingIt()
    {
        var builder = new NpgsqlConnectionStringBuilder(postgres.Server.ConnectionStringFor("postgres")) { Password = "Wr0ng-Secret-Value" };
        var wrong = PostgresConnectionString.Parse(builder.ConnectionString);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => new PostgresMigrator(wrong, KiteflowPostgresMigrations.All).MigrateAsync());

        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Wr0ng-Secret-Value", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(postgres.Server.Password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_MisnumberedSteps_ListsEveryProblem()
    {
        var connection = PostgresConnectionString.Parse("Host=127.0.0.1");
        PostgresMigration[] steps = [new(2, "two", "SELECT 1"), new(1, "one", "SELECT 1"), new(3, "three", "SELECT 1")];

        var error = Assert.Throws<ArgumentException>(() => new PostgresMigrator(connection, steps));

        Assert.Contains("migrations[0] is version 2, expected 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("migrations[1] is version 1, expected 2", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("migrations[2]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Migration_SameSqlWithOtherLineEndings_HasTheSameChecksum()
    {
        Assert.Equal(new PostgresMigration(1, "x", "SELECT 1;\nSELECT 2;\n").Checksum, new PostgresMigration(1, "x", "SELECT 1;\r\nSELECT 2;\r\n").Checksum);
        Assert.NotEqual(new PostgresMigration(1, "x", "SELECT 1").Checksum, new PostgresMigration(1, "x", "SELECT 2").Checksum);
    }

    /// <summary>Steps whose every application leaves a row: applying one twice would show.</summary>
    private static PostgresMigration[] Steps(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new PostgresMigration(i, $"step {i}", i == 1
            ? "CREATE TABLE applied_log (step int NOT NULL); INSERT INTO applied_log VALUES (1)"
            : $"INSERT INTO applied_log VALUES ({i})"))];

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, Func<string?> failure, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            if (failure() is { } message)
            {
                Assert.Fail(message);
            }

            // Polling a condition in the database; the timeout, not this pause, bounds the wait.
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }
    }
}
