using Npgsql;
using static Kiteflow.Storage.Postgres.Store.PostgresCommands;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>
/// Destinations in PostgreSQL; the name is unique among those not deleted (a partial unique index). Saving a
/// destination takes <c>FOR KEY SHARE</c> on its dataset's and credential's rows, so it and a delete of either
/// (which takes <c>FOR UPDATE</c> and then looks for destinations) run one after the other: the delete never misses
/// a destination saved at the same moment. Appends (<c>FOR NO KEY UPDATE</c>) do not wait for it.
/// </summary>
internal sealed class PostgresDestinationStore(NpgsqlDataSource source) : IDestinationStore
{
    private const string Columns = "id, name, dataset_id, credential_id, settings, state, created_at, updated_at, version";

    public Task<DestinationRow> CreateAsync(NewDestination destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return NameTakenAsync(
            () => InTransactionAsync(
                destination.DatasetId,
                destination.CredentialId,
                BatchCommand(
                    $"INSERT INTO destinations (name, dataset_id, credential_id, settings, state, created_at, updated_at, version) VALUES ($1, $2, $3, $4, 'draft', $5, $5, 1) RETURNING {Columns}",
                    Text(destination.Name),
                    Long(destination.DatasetId),
                    Long(destination.CredentialId),
                    Text(destination.SettingsJson),
                    Time(destination.CreatedAt)),
                (_, _) => throw new InvalidOperationException("An insert returned no row."),
                cancellationToken),
            "destination",
            destination.Name);
    }

    public Task<DestinationRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {Columns} FROM destinations WHERE name = $1 AND state <> 'deleted'", Read, cancellationToken, Text(name));

    public Task<DestinationRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {Columns} FROM destinations WHERE id = $1", Read, cancellationToken, Long(id));

    public async Task<IReadOnlyList<DestinationRow>> ListAsync(DestinationState? state, CancellationToken cancellationToken) =>
        state is { } only
            ? await PostgresCommands.ListAsync(source, $"SELECT {Columns} FROM destinations WHERE state = $1 ORDER BY name COLLATE \"C\", id", Read, cancellationToken, Text(StateText(only))).ConfigureAwait(false)
            : await PostgresCommands.ListAsync(source, $"SELECT {Columns} FROM destinations WHERE state <> 'deleted' ORDER BY name COLLATE \"C\"", Read, cancellationToken).ConfigureAwait(false);

    public Task<DestinationRow> UpdateAsync(long id, long expectedVersion, DestinationChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return InTransactionAsync(
            change.DatasetId,
            change.CredentialId,
            BatchCommand(
                $"UPDATE destinations SET dataset_id = $3, credential_id = $4, settings = $5, updated_at = $6, version = version + 1 WHERE id = $1 AND version = $2 AND state <> 'deleted' RETURNING {Columns}",
                Long(id),
                Long(expectedVersion),
                Long(change.DatasetId),
                Long(change.CredentialId),
                Text(change.SettingsJson),
                Time(change.At)),
            (connection, token) => ConflictAsync(connection, id, expectedVersion, token),
            cancellationToken);
    }

    public async Task<DestinationRow> SetStateAsync(long id, long expectedVersion, DestinationState state, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await using var command = Command(
                    connection,
                    null,
                    $"UPDATE destinations SET state = $3, updated_at = $4, version = version + 1 WHERE id = $1 AND version = $2 AND state <> 'deleted' RETURNING {Columns}",
                    Long(id),
                    Long(expectedVersion),
                    Text(StateText(state)),
                    Time(at));
                return await ReadOneAsync(command, Read, cancellationToken).ConfigureAwait(false)
                    ?? throw await ConflictAsync(connection, id, expectedVersion, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (IsUniqueViolation(e))
            {
                throw new StoreConflictException(StoreConflict.NameTaken, "another destination has this name.");
            }
        }
    }

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

    /// <summary>Locks the dataset's and credential's rows for key share, runs <paramref name="change"/> (one row back), commits.</summary>
    private async Task<DestinationRow> InTransactionAsync(
        long datasetId,
        long credentialId,
        NpgsqlBatchCommand change,
        Func<NpgsqlConnection, CancellationToken, Task<StoreConflictException>> noRow,
        CancellationToken cancellationToken)
    {
        var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                DestinationRow? row = null;
                await using (var batch = new NpgsqlBatch(connection, transaction))
                {
                    batch.BatchCommands.Add(BatchCommand("SELECT id FROM datasets WHERE id = $1 FOR KEY SHARE", Long(datasetId)));
                    batch.BatchCommands.Add(BatchCommand("SELECT id FROM credentials WHERE id = $1 FOR KEY SHARE", Long(credentialId)));
                    batch.BatchCommands.Add(change);
                    await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        row = Read(reader);
                    }
                }

                if (row is null)
                {
                    throw await noRow(connection, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return row;
            }
        }
    }

    private static async Task<StoreConflictException> ConflictAsync(NpgsqlConnection connection, long id, long expectedVersion, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null, "SELECT version, state FROM destinations WHERE id = $1", Long(id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.GetString(1) == "deleted")
        {
            return new StoreConflictException(StoreConflict.NotFound, "the destination was deleted.");
        }

        return new StoreConflictException(StoreConflict.VersionMismatch, $"the destination changed since it was read (version {reader.GetInt64(0)}, not {expectedVersion}); read it again and repeat the change.");
    }

    private static DestinationRow Read(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetInt64(2),
        r.GetInt64(3),
        r.GetString(4),
        ParseState(r.GetString(5)),
        Time(r, 6),
        Time(r, 7),
        r.GetInt64(8));
}
