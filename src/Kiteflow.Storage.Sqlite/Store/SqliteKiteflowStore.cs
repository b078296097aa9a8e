using Microsoft.Data.Sqlite;

namespace Kiteflow.Storage.Sqlite;

/// <summary>
/// The server's store in one SQLite file (WAL): created 0600 in a 0700 folder; one writer connection runs every
/// change in order, each in a transaction of its own; reads use pooled connections beside it. Open, then
/// <see cref="MigrateAsync"/> before use.
/// </summary>
public sealed class SqliteKiteflowStore : IKiteflowStore
{
    private readonly SqliteDatabase _database;

    private SqliteKiteflowStore(SqliteDatabase database)
    {
        _database = database;
        Datasets = new SqliteDatasetStore(database);
        Users = new SqliteUserStore(database);
        Credentials = new SqliteCredentialStore(database);
        Destinations = new SqliteDestinationStore(database);
        Delivery = new SqliteDeliveryStore(database);
        Audit = new SqliteAuditStore(database);
    }

    /// <summary>The database file.</summary>
    public string Path => _database.Path;

    /// <inheritdoc />
    public IDatasetStore Datasets { get; }

    /// <inheritdoc />
    public IUserStore Users { get; }

    /// <inheritdoc />
    public ICredentialStore Credentials { get; }

    /// <inheritdoc />
    public IDestinationStore Destinations { get; }

    /// <inheritdoc />
    public IDeliveryStore Delivery { get; }

    /// <inheritdoc />
    public IAuditStore Audit { get; }

    /// <inheritdoc />
    public string Description => "sqlite:" + Path;

    /// <summary>Opens (creating when needed) the store at <paramref name="path"/>.</summary>
    /// <exception cref="StoreException">The file cannot be opened.</exception>
    public static SqliteKiteflowStore Open(string path, SqliteStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new SqliteKiteflowStore(SqliteDatabase.Open(path, options ?? new SqliteStoreOptions()));
    }

    /// <inheritdoc />
    public Task<int> MigrateAsync(CancellationToken cancellationToken) =>
        _database.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";
            command.ExecuteNonQuery();
            command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
            var current = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            if (current > SqliteMigrations.Latest)
            {
                throw new StoreException($"The store {Path} has schema version {current}, newer than this Kiteflow knows ({SqliteMigrations.Latest}); use a newer Kiteflow.");
            }

            // One transaction for every pending step: the file moves from one version to the last one, or not at all.
            foreach (var (version, name, sql) in SqliteMigrations.Steps.Where(s => s.Version > current))
            {
                command.CommandText = sql;
                command.ExecuteNonQuery();
                command.CommandText = "INSERT INTO schema_version (version, name, applied_at) VALUES ($version, $name, $at)";
                command.Parameters.Clear();
                command.Parameters.AddWithValue("$version", version);
                command.Parameters.AddWithValue("$name", name);
                command.Parameters.AddWithValue("$at", StoreTime.Text(DateTimeOffset.UtcNow));
                command.ExecuteNonQuery();
                command.Parameters.Clear();
                current = version;
            }

            return current;
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await _database.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT MAX(version) FROM schema_version";
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long ? null : "the store has no schema yet.";
            }
        }
        catch (SqliteException e)
        {
            return $"the store does not answer: {e.Message}";
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
