using Kiteflow.Delivery.Ledger;
using Kiteflow.Storage.Postgres.Connection;
using Npgsql;
using NpgsqlTypes;
using static Kiteflow.Storage.Postgres.Store.PostgresCommands;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>
/// Each destination's ledger, progress, runs and records not delivered, in PostgreSQL, for several processes at once.
/// A destination's progress row orders what must not interleave: a claim is a compare-and-set on it (no claim open and
/// the cursor where the claimer read it), re-checked by PostgreSQL against the row as the last committed change left
/// it, so of two claimers — in one process or in two — exactly one wins. Changes that touch the row and a run or
/// records not delivered lock the row first, so they take turns instead of deadlocking. Most changes are one round trip
/// (a batch of statements PostgreSQL runs as one transaction). Npgsql's failures are <see cref="StoreException"/>s
/// without the password.
/// </summary>
internal sealed class PostgresDeliveryStore : IDeliveryStore
{
    private const string ProgressColumns = "destination_id, cursor, claim_from, claim_to, claim_settings, retry_generation, last_retry_generation, delivered, rejected, possibly_delivered, requests, retries, rate_limit_waits, last_error, last_error_at, run_id, updated_at";
    private const string RunColumns = "id, destination_id, started_at, reason, ended_at, end_reason, delivered, rejected, possibly_delivered, requests, retries, rate_limit_waits, last_error";
    private const string RejectedColumns = "record_offset, stage, message, status, response, possibly_delivered, retryable, at, retry_generation";
    private const string Ensure = "INSERT INTO destination_progress (destination_id) VALUES ($1) ON CONFLICT DO NOTHING";
    private const string LockProgress = "SELECT 1 FROM destination_progress WHERE destination_id = $1 FOR UPDATE";
    private const string AddCounts = "delivered = delivered + $2, rejected = rejected + $3, possibly_delivered = possibly_delivered + $4, requests = requests + $5, retries = retries + $6, rate_limit_waits = rate_limit_waits + $7";

    private readonly NpgsqlDataSource _source;
    private readonly PostgresConnectionString _connectionString;
    private readonly PostgresStoreLedger _ledger;

    public PostgresDeliveryStore(NpgsqlDataSource source, PostgresConnectionString connectionString)
    {
        _source = source;
        _connectionString = connectionString;
        _ledger = new PostgresStoreLedger(source, connectionString);
    }

    public IDeliveryLedger Ledger => _ledger;

    public Task<DeliveryFence> AcquireAsync(long destinationId, TimeSpan lease, DateTimeOffset at, CancellationToken cancellationToken) =>
        GuardAsync("acquire a destination", async () =>
        {
            // PostgreSQL's clock times the leases: the writers may run on several machines. The row lock of the update
            // waits for a fenced write under way, and makes the writes after it see the new epoch.
            await using var batch = _source.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(Ensure, Long(destinationId)));
            batch.BatchCommands.Add(BatchCommand(
                """
                UPDATE destination_progress AS p SET epoch = p.epoch + 1, lease_until = clock_timestamp() + $2
                FROM (SELECT destination_id, lease_until FROM destination_progress WHERE destination_id = $1 FOR UPDATE) AS old
                WHERE p.destination_id = old.destination_id
                RETURNING p.epoch, GREATEST(COALESCE(old.lease_until - clock_timestamp(), interval '0'), interval '0')
                """,
                Long(destinationId),
                new NpgsqlParameter { Value = lease, NpgsqlDbType = NpgsqlDbType.Interval }));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new DeliveryFence(destinationId, reader.GetInt64(0)) { PreviousLeaseLeft = reader.GetFieldValue<TimeSpan>(1) };
        });

    public Task<bool> RenewAsync(DeliveryFence fence, TimeSpan lease, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fence);
        return GuardAsync("renew a destination's lease", async () =>
        {
            await using var command = _source.CreateCommand("UPDATE destination_progress SET lease_until = clock_timestamp() + $3 WHERE destination_id = $1 AND epoch = $2");
            command.Parameters.Add(Long(fence.DestinationId));
            command.Parameters.Add(Long(fence.Epoch));
            command.Parameters.Add(new NpgsqlParameter { Value = lease, NpgsqlDbType = NpgsqlDbType.Interval });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        });
    }

    public Task ReleaseAsync(DeliveryFence fence, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fence);
        return GuardAsync("release a destination", async () =>
        {
            await using var command = _source.CreateCommand("UPDATE destination_progress SET lease_until = NULL WHERE destination_id = $1 AND epoch = $2");
            command.Parameters.Add(Long(fence.DestinationId));
            command.Parameters.Add(Long(fence.Epoch));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    public IDeliveryLedger FencedLedger(DeliveryFence fence) => new FencedLedger(_ledger, fence);

    public async Task<DestinationProgress> GetProgressAsync(long destinationId, CancellationToken cancellationToken) =>
        await GuardAsync("read a destination's progress", () => OneAsync(_source, $"SELECT {ProgressColumns} FROM destination_progress WHERE destination_id = $1", ReadProgress, cancellationToken, Long(destinationId))).ConfigureAwait(false)
        ?? new DestinationProgress { DestinationId = destinationId };

    public async Task<IReadOnlyList<DestinationProgress>> ListProgressAsync(CancellationToken cancellationToken) =>
        await GuardAsync("read the destinations' progress", () => ListAsync(_source, $"SELECT {ProgressColumns} FROM destination_progress ORDER BY destination_id", ReadProgress, cancellationToken)).ConfigureAwait(false);

    public Task<DestinationProgress> StartRunAsync(long destinationId, long? cursor, string reason, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return GuardAsync("start a run", async () =>
        {
            await using var batch = _source.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(Ensure, Long(destinationId)));
            AddFenceCheck(batch, fence);

            // Locked before the open run is read: two starts take turns, and the second ends the run the first opened.
            batch.BatchCommands.Add(BatchCommand(LockProgress, Long(destinationId)));
            batch.BatchCommands.Add(BatchCommand(
                "UPDATE delivery_runs SET ended_at = $2, end_reason = 'superseded' WHERE id = (SELECT run_id FROM destination_progress WHERE destination_id = $1) AND ended_at IS NULL",
                Long(destinationId),
                Time(at)));

            // The starting point is set once: a destination that claimed or settled anything goes on from its cursor.
            batch.BatchCommands.Add(BatchCommand(
                $"""
                WITH run AS (INSERT INTO delivery_runs (destination_id, started_at, reason) VALUES ($1, $2, $3) RETURNING id)
                UPDATE destination_progress AS p SET run_id = run.id,
                    cursor = CASE WHEN $4::bigint IS NOT NULL AND p.claim_from IS NULL AND p.cursor = 0 AND p.delivered + p.rejected + p.possibly_delivered = 0 THEN $4::bigint ELSE p.cursor END,
                    updated_at = $2
                FROM run WHERE p.destination_id = $1
                RETURNING {Qualified("p", ProgressColumns)}
                """,
                Long(destinationId),
                Time(at),
                Text(reason),
                NullableLong(cursor)));
            // Result sets come from the statements that return rows: the fence check's (when there is one), the lock's, then the update's.
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (fence is not null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }

            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? ReadProgress(reader)
                : throw new InvalidOperationException("The destination's progress row is missing.");
        });
    }

    public Task EndRunAsync(long destinationId, string reason, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return GuardAsync("end a run", async () =>
        {
            await using var batch = _source.CreateBatch();
            AddFenceCheck(batch, fence);
            batch.BatchCommands.Add(BatchCommand(LockProgress, Long(destinationId)));
            batch.BatchCommands.Add(BatchCommand("UPDATE delivery_runs SET ended_at = $2, end_reason = $3 WHERE destination_id = $1 AND ended_at IS NULL", Long(destinationId), Time(at), Text(reason)));
            batch.BatchCommands.Add(BatchCommand("UPDATE destination_progress SET run_id = NULL, updated_at = $2 WHERE destination_id = $1", Long(destinationId), Time(at)));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    public Task<DestinationProgress> ClaimAsync(long destinationId, long from, long to, string settingsJson, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(to, from);
        ArgumentNullException.ThrowIfNull(settingsJson);
        return GuardAsync("claim records", async () =>
        {
            await using var batch = _source.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(Ensure, Long(destinationId)));
            AddFenceCheck(batch, fence);

            // The compare-and-set: a concurrent claim that committed first has set claim_from or moved the cursor, and
            // PostgreSQL evaluates this WHERE again on the row that claim left, so it changes nothing.
            batch.BatchCommands.Add(BatchCommand(
                $"UPDATE destination_progress SET claim_from = $2, claim_to = $3, claim_settings = $4, updated_at = $5 WHERE destination_id = $1 AND claim_from IS NULL AND cursor = $2 RETURNING {ProgressColumns}",
                Long(destinationId),
                Long(from),
                Long(to),
                Text(settingsJson),
                Time(at)));
            batch.BatchCommands.Add(BatchCommand($"SELECT {ProgressColumns} FROM destination_progress WHERE destination_id = $1", Long(destinationId)));
            // Npgsql gives a result set to each statement that returns rows: the fence check's (when there is one), the update's, then the select's.
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (fence is not null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }

            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return ReadProgress(reader);
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var progress = ReadProgress(reader);
            throw new StoreConflictException(StoreConflict.VersionMismatch, $"destination {destinationId} cannot claim [{from}, {to}): its cursor is {progress.Cursor} and its claim [{progress.ClaimFrom}, {progress.ClaimTo}).");
        });
    }

    public Task<DestinationProgress> FinishAsync(long destinationId, DeliveryCounts counts, long? finishedTo, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return GuardAsync("finish a stretch", async () =>
        {
            NpgsqlParameter[] Deltas() => [Long(destinationId), Long(counts.Delivered), Long(counts.Rejected), Long(counts.PossiblyDelivered), Long(counts.Requests), Long(counts.Retries), Long(counts.RateLimitWaits), Text(FreeText(counts.LastError))];
            await using var batch = _source.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(Ensure, Long(destinationId)));
            AddFenceCheck(batch, fence);
            batch.BatchCommands.Add(BatchCommand(
                $"""
                UPDATE destination_progress SET {AddCounts},
                    last_error = COALESCE($8, last_error), last_error_at = CASE WHEN $8 IS NULL THEN last_error_at ELSE $10 END,
                    cursor = COALESCE($9, cursor),
                    claim_from = CASE WHEN $9 IS NULL THEN claim_from END,
                    claim_to = CASE WHEN $9 IS NULL THEN claim_to END,
                    claim_settings = CASE WHEN $9 IS NULL THEN claim_settings END,
                    updated_at = $10
                WHERE destination_id = $1
                RETURNING {ProgressColumns}
                """,
                [.. Deltas(), NullableLong(finishedTo), Time(at)]));

            // The progress row is locked by the update above, so the open run cannot change in between.
            batch.BatchCommands.Add(BatchCommand(
                $"UPDATE delivery_runs SET {AddCounts}, last_error = COALESCE($8, last_error) WHERE id = (SELECT run_id FROM destination_progress WHERE destination_id = $1)",
                Deltas()));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (fence is not null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }

            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return ReadProgress(reader);
        });
    }

    public async Task<IReadOnlyList<DeliveryRunRow>> ListRunsAsync(long destinationId, int limit, CancellationToken cancellationToken) =>
        await GuardAsync("read runs", () => ListAsync(_source, $"SELECT {RunColumns} FROM delivery_runs WHERE destination_id = $1 ORDER BY id DESC LIMIT $2", ReadRun, cancellationToken, Long(destinationId), Int(limit))).ConfigureAwait(false);

    public Task PutRejectedAsync(long destinationId, IReadOnlyList<NewRejectedRecord> records, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }

        // One row per record, the last of several for one record winning (one statement may change a row once).
        var rows = records.GroupBy(r => r.Offset).Select(g => g.Last()).ToArray();
        return GuardAsync("keep records not delivered", async () =>
        {
            await using var batch = _source.CreateBatch();
            AddFenceCheck(batch, fence);
            var command = new NpgsqlBatchCommand(
                """
                INSERT INTO rejected_records (destination_id, record_offset, stage, message, status, response, possibly_delivered, retryable, at, retry_generation)
                SELECT $1, record_offset, stage, message, status, response, possibly_delivered, retryable, at, 0
                FROM unnest($2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::boolean[], $8::boolean[], $9::timestamptz[])
                    AS u (record_offset, stage, message, status, response, possibly_delivered, retryable, at)
                ON CONFLICT (destination_id, record_offset) DO UPDATE SET stage = excluded.stage, message = excluded.message, status = excluded.status,
                    response = excluded.response, possibly_delivered = excluded.possibly_delivered, retryable = excluded.retryable, at = excluded.at, retry_generation = 0
                """);
            command.Parameters.Add(Long(destinationId));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => r.Offset), NpgsqlDbType.Bigint));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => FreeText(r.Stage)), NpgsqlDbType.Text));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => FreeText(r.Message)), NpgsqlDbType.Text));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => r.Status), NpgsqlDbType.Integer));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => FreeText(r.Response)), NpgsqlDbType.Text));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => r.PossiblyDelivered), NpgsqlDbType.Boolean));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => r.Retryable), NpgsqlDbType.Boolean));
            command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, r => r.At.ToUniversalTime()), NpgsqlDbType.TimestampTz));
            batch.BatchCommands.Add(command);
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    public async Task<Page<RejectedRecordRow>> ListRejectedAsync(long destinationId, long afterOffset, int limit, CancellationToken cancellationToken)
    {
        var rows = await GuardAsync("read records not delivered", () => ListAsync(_source, $"SELECT {RejectedColumns} FROM rejected_records WHERE destination_id = $1 AND record_offset > $2 ORDER BY record_offset LIMIT $3", ReadRejected, cancellationToken, Long(destinationId), Long(afterOffset), Int(limit + 1))).ConfigureAwait(false);
        return rows.Count > limit ? new Page<RejectedRecordRow>(rows[..limit], rows[limit - 1].Offset) : new Page<RejectedRecordRow>(rows, null);
    }

    public Task<IReadOnlyList<long>> BeginRetryAsync(long destinationId, IReadOnlyList<long>? offsets, bool includePossiblyDelivered, DateTimeOffset at, CancellationToken cancellationToken) =>
        GuardAsync<IReadOnlyList<long>>("begin a retry", async () =>
        {
            var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    int retrying, last;
                    await using (var batch = new NpgsqlBatch(connection, transaction))
                    {
                        batch.BatchCommands.Add(BatchCommand(Ensure, Long(destinationId)));
                        batch.BatchCommands.Add(BatchCommand("SELECT retry_generation, last_retry_generation FROM destination_progress WHERE destination_id = $1 FOR UPDATE", Long(destinationId)));
                        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                        (retrying, last) = (reader.GetInt32(0), reader.GetInt32(1));
                    }

                    if (retrying != 0)
                    {
                        throw new StoreConflictException(StoreConflict.VersionMismatch, "a retry of this destination's records is under way; wait until it ends.");
                    }

                    var generation = last + 1;
                    List<long> marked;
                    await using (var mark = Command(
                        connection,
                        transaction,
                        "UPDATE rejected_records SET retry_generation = $2 WHERE destination_id = $1 AND ($3::bigint[] IS NULL OR record_offset = ANY($3)) AND ($4 OR NOT possibly_delivered) RETURNING record_offset",
                        Long(destinationId),
                        Int(generation),
                        offsets is null ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint } : ArrayOf(offsets.ToArray(), NpgsqlDbType.Bigint),
                        Bool(includePossiblyDelivered)))
                    {
                        marked = await ReadAllAsync(mark, r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
                    }

                    marked.Sort();
                    if (marked.Count > 0)
                    {
                        await using var progress = Command(connection, transaction, "UPDATE destination_progress SET retry_generation = $2, last_retry_generation = $2, updated_at = $3 WHERE destination_id = $1", Long(destinationId), Int(generation), Time(at));
                        await progress.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return marked;
                }
            }
        });

    public Task<(long Rejected, long PossiblyDelivered)> CountRejectedAsync(long destinationId, CancellationToken cancellationToken) =>
        GuardAsync("count records not delivered", async () =>
        {
            var rows = await ListAsync(
                _source,
                "SELECT count(*) FILTER (WHERE NOT possibly_delivered), count(*) FILTER (WHERE possibly_delivered) FROM rejected_records WHERE destination_id = $1",
                r => (Rejected: r.GetInt64(0), PossiblyDelivered: r.GetInt64(1)),
                cancellationToken,
                Long(destinationId)).ConfigureAwait(false);
            return rows[0];
        });

    public async Task<IReadOnlyList<long>> RetryingAsync(long destinationId, int generation, CancellationToken cancellationToken) =>
        await GuardAsync("read a retry", () => ListAsync(_source, "SELECT record_offset FROM rejected_records WHERE destination_id = $1 AND retry_generation = $2 ORDER BY record_offset", r => r.GetInt64(0), cancellationToken, Long(destinationId), Int(generation))).ConfigureAwait(false);

    public Task EndRetryAsync(long destinationId, int generation, DeliveryCounts counts, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return GuardAsync("end a retry", async () =>
        {
            // The retry's counts and its end in one transaction: a crash between them would count its records twice.
            NpgsqlParameter[] Deltas() => [Long(destinationId), Long(counts.Delivered), Long(counts.Rejected), Long(counts.PossiblyDelivered), Long(counts.Requests), Long(counts.Retries), Long(counts.RateLimitWaits), Text(FreeText(counts.LastError))];
            await using var batch = _source.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(Ensure, Long(destinationId)));
            AddFenceCheck(batch, fence);
            batch.BatchCommands.Add(BatchCommand(LockProgress, Long(destinationId)));
            batch.BatchCommands.Add(BatchCommand(
                $"""
                UPDATE destination_progress SET {AddCounts},
                    last_error = COALESCE($8, last_error), last_error_at = CASE WHEN $8 IS NULL THEN last_error_at ELSE $9 END,
                    updated_at = $9
                WHERE destination_id = $1
                """,
                [.. Deltas(), Time(at)]));
            batch.BatchCommands.Add(BatchCommand(
                $"UPDATE delivery_runs SET {AddCounts}, last_error = COALESCE($8, last_error) WHERE id = (SELECT run_id FROM destination_progress WHERE destination_id = $1)",
                Deltas()));
            batch.BatchCommands.Add(BatchCommand("DELETE FROM rejected_records WHERE destination_id = $1 AND retry_generation = $2", Long(destinationId), Int(generation)));
            batch.BatchCommands.Add(BatchCommand("UPDATE destination_progress SET retry_generation = 0, updated_at = $3 WHERE destination_id = $1 AND retry_generation = $2", Long(destinationId), Int(generation), Time(at)));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    /// <summary>Writes what the ledger still holds; the store closes the connections after.</summary>
    internal Task CloseAsync() => _ledger.CloseAsync();

    /// <summary>With a fence, the batch's first statement (after the row is ensured) checks it and locks the progress row: a stale one fails the whole batch.</summary>
    private static void AddFenceCheck(NpgsqlBatch batch, DeliveryFence? fence)
    {
        if (fence is not null)
        {
            batch.BatchCommands.Add(BatchCommand("SELECT kiteflow_check_fence($1, $2)", Long(fence.DestinationId), Long(fence.Epoch)));
        }
    }

    private static string Qualified(string alias, string columns) => string.Join(", ", columns.Split(", ").Select(c => $"{alias}.{c}"));

    private static DestinationProgress ReadProgress(NpgsqlDataReader r) => new()
    {
        DestinationId = r.GetInt64(0),
        Cursor = r.GetInt64(1),
        ClaimFrom = r.IsDBNull(2) ? null : r.GetInt64(2),
        ClaimTo = r.IsDBNull(3) ? null : r.GetInt64(3),
        ClaimSettings = NullableString(r, 4),
        RetryGeneration = r.GetInt32(5),
        LastRetryGeneration = r.GetInt32(6),
        Totals = new DeliveryCounts(r.GetInt64(7), r.GetInt64(8), r.GetInt64(9), r.GetInt64(10), r.GetInt64(11), r.GetInt64(12)),
        LastError = NullableString(r, 13),
        LastErrorAt = NullableTime(r, 14),
        RunId = r.IsDBNull(15) ? null : r.GetInt64(15),
        UpdatedAt = NullableTime(r, 16),
    };

    private static DeliveryRunRow ReadRun(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        r.GetInt64(1),
        Time(r, 2),
        r.GetString(3),
        NullableTime(r, 4),
        NullableString(r, 5),
        new DeliveryCounts(r.GetInt64(6), r.GetInt64(7), r.GetInt64(8), r.GetInt64(9), r.GetInt64(10), r.GetInt64(11), NullableString(r, 12)));

    private static RejectedRecordRow ReadRejected(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetString(2),
        r.IsDBNull(3) ? null : r.GetInt32(3),
        NullableString(r, 4),
        r.GetBoolean(5),
        r.GetBoolean(6),
        Time(r, 7),
        r.GetInt32(8));

    private Task<T> GuardAsync<T>(string what, Func<Task<T>> work) => PostgresErrors.GuardAsync(_connectionString, what, work);
}
