using Microsoft.Data.Sqlite;
using static Kiteflow.Storage.Sqlite.SqliteReads;

namespace Kiteflow.Storage.Sqlite;

/// <summary>Destinations in SQLite; the name is unique among those not deleted (a partial unique index).</summary>
internal sealed class SqliteDestinationStore(SqliteDatabase database) : IDestinationStore
{
    private const string Columns = "id, name, dataset_id, credential_id, settings, state, created_at, updated_at, version";

    public Task<DestinationRow> CreateAsync(NewDestination destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return database.WriteAsync((connection, transaction) => SqliteErrors.NameTaken(
            () =>
            {
                var at = StoreTime.Text(destination.CreatedAt);
                using var command = Command(
                    connection,
                    transaction,
                    $"INSERT INTO destinations (name, dataset_id, credential_id, settings, state, created_at, updated_at, version) VALUES ($name, $dataset, $credential, $settings, 'draft', $at, $at, 1) RETURNING {Columns}",
                    ("$name", destination.Name),
                    ("$dataset", destination.DatasetId),
                    ("$credential", destination.CredentialId),
                    ("$settings", destination.SettingsJson),
                    ("$at", at));
                return ReadOne(command, Read)!;
            },
            "destination",
            destination.Name), cancellationToken);
    }

    public Task<DestinationRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        OneAsync(database, $"SELECT {Columns} FROM destinations WHERE name = $name AND state <> 'deleted'", Read, cancellationToken, ("$name", name));

    public Task<DestinationRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        OneAsync(database, $"SELECT {Columns} FROM destinations WHERE id = $id", Read, cancellationToken, ("$id", id));

    public async Task<IReadOnlyList<DestinationRow>> ListAsync(DestinationState? state, CancellationToken cancellationToken) =>
        state is { } only
            ? await SqliteReads.ListAsync(database, $"SELECT {Columns} FROM destinations WHERE state = $state ORDER BY name, id", Read, cancellationToken, ("$state", StateText(only))).ConfigureAwait(false)
            : await SqliteReads.ListAsync(database, $"SELECT {Columns} FROM destinations WHERE state <> 'deleted' ORDER BY name", Read, cancellationToken).ConfigureAwait(false);

    public Task<DestinationRow> UpdateAsync(long id, long expectedVersion, DestinationChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return database.WriteAsync((connection, transaction) =>
        {
            using var command = Command(
                connection,
                transaction,
                $"UPDATE destinations SET dataset_id = $dataset, credential_id = $credential, settings = $settings, updated_at = $at, version = version + 1 WHERE id = $id AND version = $version AND state <> 'deleted' RETURNING {Columns}",
                ("$dataset", change.DatasetId),
                ("$credential", change.CredentialId),
                ("$settings", change.SettingsJson),
                ("$at", StoreTime.Text(change.At)),
                ("$id", id),
                ("$version", expectedVersion));
            return ReadOne(command, Read) ?? throw Conflict(connection, transaction, id, expectedVersion);
        }, cancellationToken);
    }

    public Task<DestinationRow> SetStateAsync(long id, long expectedVersion, DestinationState state, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            try
            {
                using var command = Command(
                    connection,
                    transaction,
                    $"UPDATE destinations SET state = $state, updated_at = $at, version = version + 1 WHERE id = $id AND version = $version AND state <> 'deleted' RETURNING {Columns}",
                    ("$state", StateText(state)),
                    ("$at", StoreTime.Text(at)),
                    ("$id", id),
                    ("$version", expectedVersion));
                return ReadOne(command, Read) ?? throw Conflict(connection, transaction, id, expectedVersion);
            }
            catch (SqliteException e) when (SqliteErrors.IsUniqueViolation(e))
            {
                throw new StoreConflictException(StoreConflict.NameTaken, "another destination has this name.");
            }
        }, cancellationToken);

    internal static string StateText(DestinationState state) => state switch
    {
        DestinationState.Draft => "draft",
        DestinationState.Active => "active",
        DestinationState.Paused => "paused",
        DestinationState.Deleted => "deleted",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    private static DestinationState ParseState(string text) => text switch
    {
        "active" => DestinationState.Active,
        "paused" => DestinationState.Paused,
        "deleted" => DestinationState.Deleted,
        _ => DestinationState.Draft,
    };

    private static StoreConflictException Conflict(SqliteConnection connection, SqliteTransaction transaction, long id, long expectedVersion)
    {
        using var command = Command(connection, transaction, "SELECT version, state FROM destinations WHERE id = $id", ("$id", id));
        using var reader = command.ExecuteReader();
        if (!reader.Read() || reader.GetString(1) == "deleted")
        {
            return new StoreConflictException(StoreConflict.NotFound, "the destination was deleted.");
        }

        return new StoreConflictException(StoreConflict.VersionMismatch, $"the destination changed since it was read (version {reader.GetInt64(0)}, not {expectedVersion}); read it again and repeat the change.");
    }

    private static DestinationRow Read(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetInt64(2),
        r.GetInt64(3),
        r.GetString(4),
        ParseState(r.GetString(5)),
        StoreTime.Parse(r.GetString(6)),
        StoreTime.Parse(r.GetString(7)),
        r.GetInt64(8));
}
