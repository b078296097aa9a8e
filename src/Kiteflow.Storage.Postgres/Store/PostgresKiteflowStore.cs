using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Storage.Postgres.Migrations;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>
/// The server's store in PostgreSQL, for several Kiteflow processes sharing one database. Its tables are Kiteflow's
/// migration steps after the Orleans ones (<see cref="KiteflowPostgresMigrations"/>), applied by
/// <see cref="MigrateAsync"/> under the migrators' advisory lock, so processes starting together apply each step once.
/// Every change is one transaction on a pooled connection; what must not interleave (offsets, idempotency keys,
/// deleting what a destination uses) is ordered by row locks, not by this process. Open, then
/// <see cref="MigrateAsync"/> before use. Nothing it reports — <see cref="Description"/>, errors, health — carries the
/// connection string's password.
/// </summary>
public sealed class PostgresKiteflowStore : IKiteflowStore
{
    private readonly PostgresDatabase _database;
    private readonly PostgresDeliveryStore _delivery;

    private PostgresKiteflowStore(PostgresDatabase database)
    {
        _database = database;
        Datasets = new PostgresDatasetStore(database.DataSource);
        Users = new PostgresUserStore(database.DataSource);
        Credentials = new PostgresCredentialStore(database.DataSource);
        Destinations = new PostgresDestinationStore(database.DataSource);
        Audit = new PostgresAuditStore(database.DataSource);
        _delivery = new PostgresDeliveryStore(database.DataSource, database.ConnectionString);
        Description = database.ConnectionString.Display;
    }

    /// <inheritdoc />
    public IDatasetStore Datasets { get; }

    /// <inheritdoc />
    public IUserStore Users { get; }

    /// <inheritdoc />
    public ICredentialStore Credentials { get; }

    /// <inheritdoc />
    public IDestinationStore Destinations { get; }

    /// <inheritdoc />
    public IDeliveryStore Delivery => _delivery;

    /// <inheritdoc />
    public IAuditStore Audit { get; }

    /// <summary><c>postgres://USER@HOST:PORT/DATABASE</c>: never the password.</summary>
    public string Description { get; }

    /// <summary>The connection string (its text form masks the password).</summary>
    public PostgresConnectionString ConnectionString => _database.ConnectionString;

    /// <summary>Opens the store on <paramref name="connectionString"/> (nothing connects until the first use).</summary>
    /// <param name="connectionString">The database; see <see cref="PostgresConnectionString"/>.</param>
    /// <param name="loggerFactory">For Npgsql's and the migrator's logs; none by default.</param>
    public static PostgresKiteflowStore Open(PostgresConnectionString connectionString, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return new PostgresKiteflowStore(new PostgresDatabase(connectionString, loggerFactory));
    }

    /// <inheritdoc cref="Open(PostgresConnectionString, ILoggerFactory?)" />
    /// <exception cref="FormatException">The connection string is not valid (the message never shows its password).</exception>
    public static PostgresKiteflowStore Open(string connectionString, ILoggerFactory? loggerFactory = null) =>
        Open(PostgresConnectionString.Parse(connectionString), loggerFactory);

    /// <inheritdoc />
    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await _database.MigrateAsync(cancellationToken).ConfigureAwait(false)).VersionAfter;
        }
        catch (PostgresMigrationException e)
        {
            throw new StoreException($"The store {Description} cannot be brought up to date: {ConnectionString.Scrub(e.Message)}", e);
        }
        catch (NpgsqlException e)
        {
            throw new StoreException($"The store {Description} cannot be reached: {Explain(e)}", e);
        }
    }

    /// <inheritdoc />
    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _database.DataSource.CreateCommand($"SELECT max(version) FROM {PostgresMigrator.VersionTable}");
            var version = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as int?;
            return version >= KiteflowPostgresMigrations.All[^1].Version ? null : "the store has no schema yet.";
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return "the store has no schema yet.";
        }
        catch (NpgsqlException e)
        {
            return $"the store does not answer: {Explain(e)}";
        }
    }

    /// <summary>Writes what the ledger still holds, then closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        await _delivery.CloseAsync().ConfigureAwait(false);
        await _database.DisposeAsync().ConfigureAwait(false);
    }

    private string Explain(NpgsqlException e) => PostgresErrors.Explain(e, ConnectionString);
}
