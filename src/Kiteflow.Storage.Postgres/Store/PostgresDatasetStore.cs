using System.Runtime.InteropServices;
using Npgsql;
using NpgsqlTypes;
using static Kiteflow.Storage.Postgres.Store.PostgresCommands;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>
/// Datasets and records in PostgreSQL. An append is one round trip: a batch of statements PostgreSQL runs as one
/// transaction, whose first statement locks the dataset's row (<c>FOR NO KEY UPDATE</c>) and whose writes take their
/// offsets from that row's record count. So appends to one dataset — from any number of connections and processes —
/// run one after another and offsets never repeat or skip; and an idempotency key is looked up only once the lock is
/// held, so a concurrent repeat finds the first append's key and appends nothing. Records are written with one
/// <c>INSERT … SELECT FROM unnest($::bytea[])</c>, measured faster than binary COPY (docs/BENCHMARKS.md).
/// </summary>
internal sealed class PostgresDatasetStore(NpgsqlDataSource source) : IDatasetStore
{
    private const string Columns = "id, name, source, record_count, rejected_count, ingest_key_hash, ingest_key_prefix, require_signature, created_at, last_append_at";

    public Task<DatasetRow> CreateAsync(NewDataset dataset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return NameTakenAsync(
            async () => (await OneAsync(
                source,
                $"""
                INSERT INTO datasets (name, source, ingest_key_hash, ingest_key_prefix, require_signature, created_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                RETURNING {Columns}
                """,
                Read,
                cancellationToken,
                Text(dataset.Name),
                Text(SourceText(dataset.Source)),
                Text(dataset.IngestKey.Hash),
                Text(dataset.IngestKey.Prefix),
                Bool(dataset.IngestKey.RequireSignature),
                Time(dataset.CreatedAt)).ConfigureAwait(false))!,
            "dataset",
            dataset.Name);
    }

    public Task<DatasetRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {Columns} FROM datasets WHERE name = $1", Read, cancellationToken, Text(name));

    public Task<DatasetRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {Columns} FROM datasets WHERE id = $1", Read, cancellationToken, Long(id));

    public async Task<IReadOnlyList<DatasetRow>> ListAsync(CancellationToken cancellationToken) =>
        await PostgresCommands.ListAsync(source, $"SELECT {Columns} FROM datasets ORDER BY name COLLATE \"C\"", Read, cancellationToken).ConfigureAwait(false);

    public async Task<bool> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // The row lock waits for appends in flight and for destinations being saved against this dataset
                // (they take FOR KEY SHARE), so the check below sees every destination that will ever read it.
                await using (var exists = Command(connection, transaction, "SELECT id FROM datasets WHERE id = $1 FOR UPDATE", Long(id)))
                {
                    if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                    {
                        return false;
                    }
                }

                await using (var users = Command(connection, transaction, "SELECT name FROM destinations WHERE dataset_id = $1 AND state <> 'deleted' ORDER BY name COLLATE \"C\" LIMIT 1", Long(id)))
                {
                    if (await users.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string user)
                    {
                        throw new StoreConflictException(StoreConflict.InUse, $"the destination '{user}' reads this dataset; delete that destination first.");
                    }
                }

                await using (var delete = new NpgsqlBatch(connection, transaction))
                {
                    foreach (var table in new[] { "records", "dataset_schema", "read_rejections", "idempotency_keys" })
                    {
                        delete.BatchCommands.Add(BatchCommand($"DELETE FROM {table} WHERE dataset_id = $1", Long(id)));
                    }

                    delete.BatchCommands.Add(BatchCommand("DELETE FROM datasets WHERE id = $1", Long(id)));
                    await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    public Task<DatasetRow?> SetIngestKeyAsync(long id, IngestKeySettings key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return OneAsync(
            source,
            $"UPDATE datasets SET ingest_key_hash = $2, ingest_key_prefix = $3, require_signature = $4 WHERE id = $1 RETURNING {Columns}",
            Read,
            cancellationToken,
            Long(id),
            Text(key.Hash),
            Text(key.Prefix),
            Bool(key.RequireSignature));
    }

    public async Task<AppendResult> AppendAsync(long datasetId, RecordBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await using var append = source.CreateBatch();
        Add(append, datasetId, batch);
        await using var reader = await append.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new StoreConflictException(StoreConflict.NotFound, "the dataset was deleted.");
        }

        var first = reader.GetInt64(0);
        if (batch.IdempotencyKey is not null && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false) && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return new AppendResult(reader.GetInt64(0), reader.GetInt32(1), first, Replayed: true, NullableString(reader, 2));
        }

        return new AppendResult(first, batch.Records.Count, first + batch.Records.Count, Replayed: false);
    }

    public async Task<IReadOnlyList<StoredRecord>> ReadAsync(long datasetId, long fromOffset, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOffset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await PostgresCommands.ListAsync(
            source,
            "SELECT record_offset, json FROM records WHERE dataset_id = $1 AND record_offset >= $2 ORDER BY record_offset LIMIT $3",
            r => new StoredRecord(r.GetInt64(0), r.GetFieldValue<byte[]>(1)),
            cancellationToken,
            Long(datasetId),
            Long(fromOffset),
            Int(limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<SchemaPath>> GetSchemaAsync(long datasetId, CancellationToken cancellationToken) =>
        await PostgresCommands.ListAsync(
            source,
            "SELECT path, types, records FROM dataset_schema WHERE dataset_id = $1 ORDER BY ordinal",
            r => new SchemaPath(r.GetString(0), (JsonTypes)r.GetInt32(1), r.GetInt64(2)),
            cancellationToken,
            Long(datasetId)).ConfigureAwait(false);

    public async Task<Page<ReadRejectionRow>> ListReadRejectionsAsync(long datasetId, long afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var rows = await PostgresCommands.ListAsync(
            source,
            "SELECT id, line, item, message, origin, at FROM read_rejections WHERE dataset_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            r => new ReadRejectionRow(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.GetInt64(2), r.GetString(3), r.GetString(4), Time(r, 5)),
            cancellationToken,
            Long(datasetId),
            Long(afterId),
            Long(limit + 1L)).ConfigureAwait(false);
        var more = rows.Count > limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new Page<ReadRejectionRow>(rows, more ? rows[^1].Id : null);
    }

    /// <summary>
    /// The whole append as one batch of statements: one round trip, run by PostgreSQL as one implicit transaction (an
    /// error in any statement rolls back them all). The first statement locks the dataset's row and returns its record
    /// count, the append's first offset. Every later statement reads that count from the locked row itself, so it
    /// needs no answer from the client in between. Under READ COMMITTED each statement's snapshot is taken when it
    /// starts, after the lock was granted, so it sees the appends that held the lock before. With an idempotency key the
    /// second statement returns the key's earlier append, and every write is guarded by the key's absence: a repeat
    /// changes nothing. A deleted dataset has no row to join, so nothing is written either.
    /// </summary>
    private static void Add(NpgsqlBatch append, long datasetId, RecordBatch batch)
    {
        var key = batch.IdempotencyKey;

        // $2 of every guarded statement is the key; without one the guard is left out.
        var fresh = key is null ? "true" : "NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.dataset_id = $1 AND k.key = $2)";
        NpgsqlParameter[] Guarded(params NpgsqlParameter[] parameters) => [Long(datasetId), Text(key), .. parameters];

        append.BatchCommands.Add(BatchCommand("SELECT record_count FROM datasets WHERE id = $1 FOR NO KEY UPDATE", Long(datasetId)));
        if (key is not null)
        {
            append.BatchCommands.Add(BatchCommand("SELECT first_offset, count, response FROM idempotency_keys WHERE dataset_id = $1 AND key = $2", Long(datasetId), Text(key)));
        }

        var records = batch.Records;
        if (records.Count > 0)
        {
            append.BatchCommands.Add(BatchCommand(
                $"""
                INSERT INTO records (dataset_id, record_offset, json)
                SELECT d.id, d.record_count + r.n - 1, r.json
                FROM datasets d CROSS JOIN unnest($3::bytea[]) WITH ORDINALITY AS r(json, n)
                WHERE d.id = $1 AND {fresh}
                """,
                Guarded(ArrayOf(records.Select(ExactArray).ToArray(), NpgsqlDbType.Bytea))));
        }

        var rejections = batch.Rejections;
        if (rejections.Count > 0)
        {
            append.BatchCommands.Add(BatchCommand(
                $"""
                INSERT INTO read_rejections (dataset_id, line, item, message, origin, at)
                SELECT d.id, r.line, r.item, r.message, r.origin, $7
                FROM datasets d CROSS JOIN unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[]) WITH ORDINALITY AS r(line, item, message, origin, n)
                WHERE d.id = $1 AND {fresh}
                ORDER BY r.n
                """,
                Guarded(
                    ArrayOf(rejections.Select(r => r.Line).ToArray(), NpgsqlDbType.Bigint),
                    ArrayOf(rejections.Select(r => r.Item).ToArray(), NpgsqlDbType.Bigint),
                    ArrayOf(rejections.Select(r => r.Message).ToArray(), NpgsqlDbType.Text),
                    ArrayOf(rejections.Select(r => r.Origin).ToArray(), NpgsqlDbType.Text),
                    Time(batch.At))));
        }

        if (batch.Schema is { Paths.Count: > 0 } schema)
        {
            // One statement for every path; ON CONFLICT may touch a row once per statement, so repeats are merged first.
            // New paths take ordinals after every existing one, in the batch's first-seen order.
            var paths = Merge(schema.Paths);
            append.BatchCommands.Add(BatchCommand(
                $"""
                INSERT INTO dataset_schema (dataset_id, path, ordinal, types, records)
                SELECT d.id, p.path, (SELECT COALESCE(MAX(ordinal), 0) FROM dataset_schema WHERE dataset_id = $1) + p.n, p.types, p.records
                FROM datasets d CROSS JOIN unnest($3::text[], $4::integer[], $5::bigint[]) WITH ORDINALITY AS p(path, types, records, n)
                WHERE d.id = $1 AND {fresh}
                ON CONFLICT (dataset_id, path) DO UPDATE
                SET types = dataset_schema.types | excluded.types, records = dataset_schema.records + excluded.records
                """,
                Guarded(
                    ArrayOf(paths.Select(p => p.Path).ToArray(), NpgsqlDbType.Text),
                    ArrayOf(paths.Select(p => (int)p.Types).ToArray(), NpgsqlDbType.Integer),
                    ArrayOf(paths.Select(p => p.Records).ToArray(), NpgsqlDbType.Bigint))));
        }

        if (records.Count > 0 || rejections.Count > 0)
        {
            append.BatchCommands.Add(BatchCommand(
                $"UPDATE datasets SET record_count = record_count + $3, rejected_count = rejected_count + $4, last_append_at = $5 WHERE id = $1 AND {fresh}",
                Guarded(Long(records.Count), Long(rejections.Count), Time(batch.At))));
        }

        if (key is not null)
        {
            // Last, after the count moved on: the first offset is the new count less this append's records.
            append.BatchCommands.Add(BatchCommand(
                $"""
                INSERT INTO idempotency_keys (dataset_id, key, first_offset, count, response, at)
                SELECT d.id, $2, d.record_count - $3, $3, $4, $5 FROM datasets d
                WHERE d.id = $1 AND {fresh}
                """,
                Guarded(Int(records.Count), Text(batch.IdempotentResponse), Time(batch.At))));
        }
    }

    private static string SourceText(DatasetSource source) => source switch
    {
        DatasetSource.Upload => "upload",
        DatasetSource.Ingest => "ingest",
        DatasetSource.Response => "response",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };

    private static DatasetSource ParseSource(string text) => text switch
    {
        "ingest" => DatasetSource.Ingest,
        "response" => DatasetSource.Response,
        _ => DatasetSource.Upload,
    };

    private static List<SchemaPath> Merge(IReadOnlyList<SchemaPath> paths)
    {
        var merged = new List<SchemaPath>(paths.Count);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (index.TryGetValue(path.Path, out var at))
            {
                merged[at] = merged[at] with { Types = merged[at].Types | path.Types, Records = merged[at].Records + path.Records };
            }
            else
            {
                index[path.Path] = merged.Count;
                merged.Add(path);
            }
        }

        return merged;
    }

    private static byte[] ExactArray(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();

    private static DatasetRow Read(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        Name = reader.GetString(1),
        Source = ParseSource(reader.GetString(2)),
        RecordCount = reader.GetInt64(3),
        RejectedCount = reader.GetInt64(4),
        IngestKeyHash = reader.GetString(5),
        IngestKeyPrefix = reader.GetString(6),
        RequireSignature = reader.GetBoolean(7),
        CreatedAt = Time(reader, 8),
        LastAppendAt = NullableTime(reader, 9),
    };
}
