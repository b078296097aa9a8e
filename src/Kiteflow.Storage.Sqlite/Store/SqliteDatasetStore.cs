using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Kiteflow.Storage.Sqlite;

/// <summary>Datasets and records in SQLite; see <see cref="SqliteMigrations.OffsetBits"/> for the records' layout.</summary>
internal sealed class SqliteDatasetStore(SqliteDatabase database) : IDatasetStore
{
    private const string Columns = "id, name, source, record_count, rejected_count, ingest_key_hash, ingest_key_prefix, require_signature, created_at, last_append_at";
    private const long MaxOffset = (1L << SqliteMigrations.OffsetBits) - 1;
    private const long MaxDatasetId = (1L << (63 - SqliteMigrations.OffsetBits)) - 1;

    public Task<DatasetRow> CreateAsync(NewDataset dataset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return database.WriteAsync((connection, transaction) => SqliteErrors.NameTaken(
            () =>
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = $"""
                    INSERT INTO datasets (name, source, ingest_key_hash, ingest_key_prefix, require_signature, created_at)
                    VALUES ($name, $source, $hash, $prefix, $signature, $at)
                    RETURNING {Columns}
                    """;
                command.Parameters.AddWithValue("$name", dataset.Name);
                command.Parameters.AddWithValue("$source", SourceText(dataset.Source));
                command.Parameters.AddWithValue("$hash", dataset.IngestKey.Hash);
                command.Parameters.AddWithValue("$prefix", dataset.IngestKey.Prefix);
                command.Parameters.AddWithValue("$signature", dataset.IngestKey.RequireSignature);
                command.Parameters.AddWithValue("$at", StoreTime.Text(dataset.CreatedAt));
                using var reader = command.ExecuteReader();
                reader.Read();
                var row = Read(reader);
                if (row.Id > MaxDatasetId)
                {
                    throw new StoreException($"The store holds too many datasets (ids above {MaxDatasetId}).");
                }

                return row;
            },
            "dataset",
            dataset.Name), cancellationToken);
    }

    public Task<DatasetRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        QueryOneAsync($"SELECT {Columns} FROM datasets WHERE name = $key", name, cancellationToken);

    public Task<DatasetRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        QueryOneAsync($"SELECT {Columns} FROM datasets WHERE id = $key", id, cancellationToken);

    public async Task<IReadOnlyList<DatasetRow>> ListAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM datasets ORDER BY name";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<DatasetRow>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(Read(reader));
            }

            return rows;
        }
    }

    public Task<bool> DeleteAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$id", id);
            command.CommandText = "SELECT name FROM destinations WHERE dataset_id = $id AND state <> 'deleted' ORDER BY name LIMIT 1";
            if (command.ExecuteScalar() is string user)
            {
                throw new StoreConflictException(StoreConflict.InUse, $"the destination '{user}' reads this dataset; delete that destination first.");
            }

            command.Parameters.AddWithValue("$low", id << SqliteMigrations.OffsetBits);
            command.Parameters.AddWithValue("$high", (id + 1) << SqliteMigrations.OffsetBits);
            command.CommandText = """
                DELETE FROM records WHERE id >= $low AND id < $high;
                DELETE FROM dataset_schema WHERE dataset_id = $id;
                DELETE FROM read_rejections WHERE dataset_id = $id;
                DELETE FROM idempotency_keys WHERE dataset_id = $id;
                """;
            command.ExecuteNonQuery();
            command.CommandText = "DELETE FROM datasets WHERE id = $id";
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);

    public Task<DatasetRow?> SetIngestKeyAsync(long id, IngestKeySettings key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return database.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"UPDATE datasets SET ingest_key_hash = $hash, ingest_key_prefix = $prefix, require_signature = $signature WHERE id = $id RETURNING {Columns}";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$hash", key.Hash);
            command.Parameters.AddWithValue("$prefix", key.Prefix);
            command.Parameters.AddWithValue("$signature", key.RequireSignature);
            using var reader = command.ExecuteReader();
            return reader.Read() ? Read(reader) : null;
        }, cancellationToken);
    }

    public Task<AppendResult> AppendAsync(long datasetId, RecordBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return database.WriteAsync((connection, transaction) => Append(transaction, datasetId, batch), cancellationToken);
    }

    public async Task<IReadOnlyList<StoredRecord>> ReadAsync(long datasetId, long fromOffset, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOffset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var records = new List<StoredRecord>(Math.Min(limit, 1024));
        if (fromOffset > MaxOffset)
        {
            return records;
        }

        var connection = await database.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, json FROM records WHERE id >= $low AND id < $high ORDER BY id LIMIT $limit";
            command.Parameters.AddWithValue("$low", (datasetId << SqliteMigrations.OffsetBits) + fromOffset);
            command.Parameters.AddWithValue("$high", (datasetId + 1) << SqliteMigrations.OffsetBits);
            command.Parameters.AddWithValue("$limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                records.Add(new StoredRecord(reader.GetInt64(0) & MaxOffset, reader.GetFieldValue<byte[]>(1)));
            }
        }

        return records;
    }

    public async Task<IReadOnlyList<SchemaPath>> GetSchemaAsync(long datasetId, CancellationToken cancellationToken)
    {
        var connection = await database.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT path, types, records FROM dataset_schema WHERE dataset_id = $id ORDER BY ordinal";
            command.Parameters.AddWithValue("$id", datasetId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var paths = new List<SchemaPath>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                paths.Add(new SchemaPath(reader.GetString(0), (JsonTypes)reader.GetInt32(1), reader.GetInt64(2)));
            }

            return paths;
        }
    }

    public async Task<Page<ReadRejectionRow>> ListReadRejectionsAsync(long datasetId, long afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var connection = await database.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, line, item, message, origin, at FROM read_rejections WHERE dataset_id = $id AND id > $after ORDER BY id LIMIT $limit";
            command.Parameters.AddWithValue("$id", datasetId);
            command.Parameters.AddWithValue("$after", afterId);
            command.Parameters.AddWithValue("$limit", limit + 1);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<ReadRejectionRow>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(new ReadRejectionRow(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), StoreTime.Parse(reader.GetString(5))));
            }

            var more = rows.Count > limit;
            if (more)
            {
                rows.RemoveAt(rows.Count - 1);
            }

            return new Page<ReadRejectionRow>(rows, more ? rows[^1].Id : null);
        }
    }

    internal static string SourceText(DatasetSource source) => source switch
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

    private AppendResult Append(SqliteTransaction transaction, long datasetId, RecordBatch batch)
    {
        var at = StoreTime.Text(batch.At);
        if (batch.IdempotencyKey is { } key)
        {
            var find = Bound(transaction, "idempotency.find", "SELECT first_offset, count, response, (SELECT record_count FROM datasets WHERE id = $dataset) FROM idempotency_keys WHERE dataset_id = $dataset AND key = $key", "$dataset", "$key");
            find.Parameters[0].Value = datasetId;
            find.Parameters[1].Value = key;
            using var reader = find.ExecuteReader();
            if (reader.Read())
            {
                return new AppendResult(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt64(3), Replayed: true, reader.IsDBNull(2) ? null : reader.GetString(2));
            }
        }

        var count = Bound(transaction, "datasets.count", "SELECT record_count FROM datasets WHERE id = $dataset", "$dataset");
        count.Parameters[0].Value = datasetId;
        if (count.ExecuteScalar() is not long first)
        {
            throw new StoreConflictException(StoreConflict.NotFound, "the dataset was deleted.");
        }

        var records = batch.Records;
        if (first + records.Count > MaxOffset)
        {
            throw new StoreException($"The dataset is full: it holds {first} records, and offsets end at {MaxOffset}.");
        }

        var insert = Bound(transaction, "records.insert", "INSERT INTO records (id, json) VALUES ($id, $json)", "$id", "$json");
        var baseId = (datasetId << SqliteMigrations.OffsetBits) + first;
        for (var i = 0; i < records.Count; i++)
        {
            insert.Parameters[0].Value = baseId + i;
            insert.Parameters[1].Value = ExactArray(records[i]);
            insert.ExecuteNonQuery();
        }

        if (batch.Rejections.Count > 0)
        {
            var reject = Bound(transaction, "rejections.insert", "INSERT INTO read_rejections (dataset_id, line, item, message, origin, at) VALUES ($dataset, $line, $item, $message, $origin, $at)", "$dataset", "$line", "$item", "$message", "$origin", "$at");
            foreach (var rejection in batch.Rejections)
            {
                reject.Parameters[0].Value = datasetId;
                reject.Parameters[1].Value = (object?)rejection.Line ?? DBNull.Value;
                reject.Parameters[2].Value = rejection.Item;
                reject.Parameters[3].Value = rejection.Message;
                reject.Parameters[4].Value = rejection.Origin;
                reject.Parameters[5].Value = at;
                reject.ExecuteNonQuery();
            }
        }

        if (batch.Schema is { } schema)
        {
            var merge = Bound(
                transaction,
                "schema.merge",
                """
                INSERT INTO dataset_schema (dataset_id, path, ordinal, types, records)
                VALUES ($dataset, $path, (SELECT COUNT(*) FROM dataset_schema WHERE dataset_id = $dataset), $types, $records)
                ON CONFLICT (dataset_id, path) DO UPDATE SET types = types | excluded.types, records = records + excluded.records
                """,
                "$dataset",
                "$path",
                "$types",
                "$records");
            foreach (var path in schema.Paths)
            {
                merge.Parameters[0].Value = datasetId;
                merge.Parameters[1].Value = path.Path;
                merge.Parameters[2].Value = (int)path.Types;
                merge.Parameters[3].Value = path.Records;
                merge.ExecuteNonQuery();
            }
        }

        if (records.Count > 0 || batch.Rejections.Count > 0)
        {
            var update = Bound(transaction, "datasets.appended", "UPDATE datasets SET record_count = record_count + $records, rejected_count = rejected_count + $rejected, last_append_at = $at WHERE id = $dataset", "$records", "$rejected", "$at", "$dataset");
            update.Parameters[0].Value = records.Count;
            update.Parameters[1].Value = batch.Rejections.Count;
            update.Parameters[2].Value = at;
            update.Parameters[3].Value = datasetId;
            update.ExecuteNonQuery();
        }

        if (batch.IdempotencyKey is { } newKey)
        {
            var remember = Bound(transaction, "idempotency.insert", "INSERT INTO idempotency_keys (dataset_id, key, first_offset, count, response, at) VALUES ($dataset, $key, $first, $count, $response, $at)", "$dataset", "$key", "$first", "$count", "$response", "$at");
            remember.Parameters[0].Value = datasetId;
            remember.Parameters[1].Value = newKey;
            remember.Parameters[2].Value = first;
            remember.Parameters[3].Value = records.Count;
            remember.Parameters[4].Value = (object?)batch.IdempotentResponse ?? DBNull.Value;
            remember.Parameters[5].Value = at;
            remember.ExecuteNonQuery();
        }

        return new AppendResult(first, records.Count, first + records.Count, Replayed: false);
    }

    private SqliteCommand Bound(SqliteTransaction transaction, string name, string sql, params string[] parameters)
    {
        var command = database.Prepare(name, sql, parameters);
        command.Transaction = transaction;
        return command;
    }

    private static byte[] ExactArray(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();

    private async Task<DatasetRow?> QueryOneAsync(string sql, object key, CancellationToken cancellationToken)
    {
        var connection = await database.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$key", key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
        }
    }

    private static DatasetRow Read(SqliteDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        Name = reader.GetString(1),
        Source = ParseSource(reader.GetString(2)),
        RecordCount = reader.GetInt64(3),
        RejectedCount = reader.GetInt64(4),
        IngestKeyHash = reader.GetString(5),
        IngestKeyPrefix = reader.GetString(6),
        RequireSignature = reader.GetBoolean(7),
        CreatedAt = StoreTime.Parse(reader.GetString(8)),
        LastAppendAt = reader.IsDBNull(9) ? null : StoreTime.Parse(reader.GetString(9)),
    };
}
