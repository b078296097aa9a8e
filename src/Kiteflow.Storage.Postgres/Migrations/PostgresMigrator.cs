using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Kiteflow.Storage.Postgres.Connection;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Migrations;

/// <summary>
/// Brings a PostgreSQL database to the newest version of a list of <see cref="PostgresMigration"/>s.
/// Every process that starts calls it; a session-level advisory lock makes the processes take turns, so
/// when several start at once one applies the pending steps and the others find nothing left to do.
/// Each step runs in its own transaction together with its row in <c>kiteflow_schema_version</c>: a step
/// is applied entirely, once, or not at all. The migrator uses a connection of its own, outside any pool,
/// so the lock goes with the connection however the call ends.
/// </summary>
public sealed partial class PostgresMigrator
{
    /// <summary>The advisory lock key the migrators share: the ASCII bytes of "KITEFLOW".</summary>
    public const long AdvisoryLockKey = 0x4B495445464C4F57;

    /// <summary>The table that records the applied steps.</summary>
    public const string VersionTable = "kiteflow_schema_version";

    private readonly string _connectionString;
    private readonly IReadOnlyList<PostgresMigration> _migrations;
    private readonly ILogger _logger;

    /// <summary>Creates a migrator over <paramref name="migrations"/>, numbered 1, 2, 3… without gaps.</summary>
    /// <exception cref="ArgumentException">The list is not numbered 1…n; every problem is listed.</exception>
    public PostgresMigrator(PostgresConnectionString connectionString, IReadOnlyList<PostgresMigration> migrations, ILogger<PostgresMigrator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        ArgumentNullException.ThrowIfNull(migrations);
        var problems = new List<string>();
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i] is null)
            {
                problems.Add($"migrations[{i}] is null");
            }
            else if (migrations[i].Version != i + 1)
            {
                problems.Add($"migrations[{i}] is version {migrations[i].Version}, expected {i + 1} (versions run 1, 2, 3… in order, without gaps)");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"The migration list is not valid: {string.Join("; ", problems)}.", nameof(migrations));
        }

        _connectionString = new NpgsqlConnectionStringBuilder(connectionString.ToNpgsqlConnectionString()) { Pooling = false }.ConnectionString;
        _migrations = migrations;
        _logger = logger ?? NullLogger<PostgresMigrator>.Instance;
    }

    /// <summary>The newest version this migrator knows.</summary>
    public int LatestVersion => _migrations.Count;

    /// <summary>Applies the steps the database lacks, waiting for any other process that is migrating.</summary>
    /// <exception cref="PostgresMigrationException">A step failed (rolled back), the database is newer than this list, or an applied step was edited.</exception>
    /// <exception cref="NpgsqlException">The server could not be reached.</exception>
    public async Task<PostgresMigrationResult> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await AcquireLockAsync(connection, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, $"""
            CREATE TABLE IF NOT EXISTS {VersionTable} (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken).ConfigureAwait(false);

        var applied = await ReadAppliedAsync(connection, cancellationToken).ConfigureAwait(false);
        var before = applied.Count == 0 ? 0 : applied.Keys.Max();
        Check(applied, before);

        var done = new List<int>();
        foreach (var migration in _migrations.Where(m => !applied.ContainsKey(m.Version)))
        {
            await ApplyAsync(connection, migration, cancellationToken).ConfigureAwait(false);
            done.Add(migration.Version);
        }

        var after = Math.Max(before, LatestVersion);
        if (done.Count > 0)
        {
            LogMigrated(_logger, before, after, done.Count);
        }

        // Disposing the connection closes it (there is no pool) and so releases the advisory lock.
        return new PostgresMigrationResult(before, after, done);
    }

    private async Task AcquireLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({AdvisoryLockKey})", connection))
        {
            if ((bool)(await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return;
            }
        }

        LogWaitingForLock(_logger);
        await using var wait = new NpgsqlCommand($"SELECT pg_advisory_lock({AdvisoryLockKey})", connection) { CommandTimeout = 0 };
        await wait.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Dictionary<int, (string Name, string Checksum)>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, (string, string)>();
        await using var command = new NpgsqlCommand($"SELECT version, name, checksum FROM {VersionTable} ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied[reader.GetInt32(0)] = (reader.GetString(1), reader.GetString(2));
        }

        return applied;
    }

    private void Check(Dictionary<int, (string Name, string Checksum)> applied, int before)
    {
        if (before > LatestVersion)
        {
            var newest = applied[before];
            throw new PostgresMigrationException(string.Create(
                CultureInfo.InvariantCulture,
                $"The database's schema is at version {before} ({newest.Name}), newer than this Kiteflow knows (version {LatestVersion}): run a Kiteflow at least as new as the one that migrated this database."));
        }

        var edited = _migrations
            .Where(m => applied.TryGetValue(m.Version, out var row) && row.Checksum != m.Checksum)
            .Select(m => m.ToString())
            .ToList();
        if (edited.Count > 0)
        {
            throw new PostgresMigrationException(
                $"Applied migration steps differ from the ones this Kiteflow ships: {string.Join(", ", edited)}. A step that has been applied must never change: put the change in a new step, or restore the original.");
        }
    }

    private async Task ApplyAsync(NpgsqlConnection connection, PostgresMigration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            await using (var record = new NpgsqlCommand($"INSERT INTO {VersionTable} (version, name, checksum) VALUES ($1, $2, $3)", connection, transaction))
            {
                record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
                record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
                record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Checksum });
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            LogApplied(_logger, migration.Version, migration.Name);
        }
        catch (PostgresException exception)
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            throw new PostgresMigrationException(
                $"Migration step {migration} failed and was rolled back: {exception.MessageText} (SQLSTATE {exception.SqlState}). The database stays at the version before it.",
                exception);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Another process is migrating the database; waiting for it")]
    private static partial void LogWaitingForLock(ILogger logger);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Applied migration step {Version} ({Name})")]
    private static partial void LogApplied(ILogger logger, int version, string name);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Database schema migrated from version {Before} to {After} ({Count} steps)")]
    private static partial void LogMigrated(ILogger logger, int before, int after, int count);
}
