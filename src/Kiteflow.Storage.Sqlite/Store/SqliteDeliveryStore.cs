using Kiteflow.Delivery.Ledger;
using Microsoft.Data.Sqlite;
using static Kiteflow.Storage.Sqlite.SqliteReads;

namespace Kiteflow.Storage.Sqlite;

/// <summary>Each destination's ledger, progress, runs and records not delivered, in the server's SQLite store.</summary>
internal sealed class SqliteDeliveryStore(SqliteDatabase database) : IDeliveryStore
{
    private const string ProgressColumns = "destination_id, cursor, claim_from, claim_to, claim_settings, retry_generation, last_retry_generation, delivered, rejected, possibly_delivered, requests, retries, rate_limit_waits, last_error, last_error_at, run_id, updated_at";
    private const string RunColumns = "id, destination_id, started_at, reason, ended_at, end_reason, delivered, rejected, possibly_delivered, requests, retries, rate_limit_waits, last_error";
    private const string RejectedColumns = "record_offset, stage, message, status, response, possibly_delivered, retryable, at, retry_generation";

    public IDeliveryLedger Ledger { get; } = new SqliteStoreLedger(database);

    public Task<DeliveryFence> AcquireAsync(long destinationId, TimeSpan lease, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            Ensure(connection, transaction, destinationId);
            long epoch;
            TimeSpan left;
            using (var read = Command(connection, transaction, "SELECT epoch, lease_until FROM destination_progress WHERE destination_id = $id", ("$id", destinationId)))
            using (var reader = read.ExecuteReader())
            {
                reader.Read();
                epoch = reader.GetInt64(0) + 1;
                left = reader.IsDBNull(1) ? TimeSpan.Zero : StoreTime.Parse(reader.GetString(1)) - at;
            }

            Exec(connection, transaction, "UPDATE destination_progress SET epoch = $epoch, lease_until = $until WHERE destination_id = $id", ("$epoch", epoch), ("$until", StoreTime.Text(at + lease)), ("$id", destinationId));
            return new DeliveryFence(destinationId, epoch) { PreviousLeaseLeft = left > TimeSpan.Zero ? left : TimeSpan.Zero };
        }, cancellationToken);

    public Task<bool> RenewAsync(DeliveryFence fence, TimeSpan lease, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fence);
        return database.WriteAsync((connection, transaction) =>
        {
            using var update = Command(connection, transaction, "UPDATE destination_progress SET lease_until = $until WHERE destination_id = $id AND epoch = $epoch", ("$until", StoreTime.Text(at + lease)), ("$id", fence.DestinationId), ("$epoch", fence.Epoch));
            return update.ExecuteNonQuery() == 1;
        }, cancellationToken);
    }

    public Task ReleaseAsync(DeliveryFence fence, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fence);
        return database.WriteAsync((connection, transaction) =>
        {
            Exec(connection, transaction, "UPDATE destination_progress SET lease_until = NULL WHERE destination_id = $id AND epoch = $epoch", ("$id", fence.DestinationId), ("$epoch", fence.Epoch));
            return true;
        }, cancellationToken);
    }

    public IDeliveryLedger FencedLedger(DeliveryFence fence) => new FencedLedger(Ledger, fence);

    public async Task<DestinationProgress> GetProgressAsync(long destinationId, CancellationToken cancellationToken) =>
        await OneAsync(database, $"SELECT {ProgressColumns} FROM destination_progress WHERE destination_id = $id", ReadProgress, cancellationToken, ("$id", destinationId)).ConfigureAwait(false)
        ?? new DestinationProgress { DestinationId = destinationId };

    public async Task<IReadOnlyList<DestinationProgress>> ListProgressAsync(CancellationToken cancellationToken) =>
        await SqliteReads.ListAsync(database, $"SELECT {ProgressColumns} FROM destination_progress ORDER BY destination_id", ReadProgress, cancellationToken).ConfigureAwait(false);

    public Task<DestinationProgress> StartRunAsync(long destinationId, long? cursor, string reason, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            var progress = Ensure(connection, transaction, destinationId);
            CheckFence(connection, transaction, destinationId, fence);
            var now = StoreTime.Text(at);
            if (progress.RunId is { } open)
            {
                Exec(connection, transaction, "UPDATE delivery_runs SET ended_at = $at, end_reason = 'superseded' WHERE id = $id AND ended_at IS NULL", ("$at", now), ("$id", open));
            }

            using var insert = Command(connection, transaction, "INSERT INTO delivery_runs (destination_id, started_at, reason) VALUES ($destination, $at, $reason) RETURNING id", ("$destination", destinationId), ("$at", now), ("$reason", reason));
            var runId = (long)insert.ExecuteScalar()!;

            // The starting point is set once: a destination that claimed or settled anything goes on from its cursor.
            var untouched = progress.ClaimFrom is null && progress.Cursor == 0 && progress.Totals.Settled == 0;
            Exec(
                connection,
                transaction,
                "UPDATE destination_progress SET run_id = $run, cursor = CASE WHEN $set THEN $cursor ELSE cursor END, updated_at = $at WHERE destination_id = $id",
                ("$run", runId),
                ("$set", cursor is not null && untouched),
                ("$cursor", cursor ?? 0),
                ("$at", now),
                ("$id", destinationId));
            return Load(connection, transaction, destinationId)!;
        }, cancellationToken);

    public Task EndRunAsync(long destinationId, string reason, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            CheckFence(connection, transaction, destinationId, fence);
            var now = StoreTime.Text(at);
            Exec(connection, transaction, "UPDATE delivery_runs SET ended_at = $at, end_reason = $reason WHERE destination_id = $id AND ended_at IS NULL", ("$at", now), ("$reason", reason), ("$id", destinationId));
            Exec(connection, transaction, "UPDATE destination_progress SET run_id = NULL, updated_at = $at WHERE destination_id = $id", ("$at", now), ("$id", destinationId));
            return true;
        }, cancellationToken);

    public Task<DestinationProgress> ClaimAsync(long destinationId, long from, long to, string settingsJson, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(to, from);
        return database.WriteAsync((connection, transaction) =>
        {
            var progress = Ensure(connection, transaction, destinationId);
            CheckFence(connection, transaction, destinationId, fence);
            if (progress.ClaimFrom is not null || progress.Cursor != from)
            {
                throw new StoreConflictException(StoreConflict.VersionMismatch, $"destination {destinationId} cannot claim [{from}, {to}): its cursor is {progress.Cursor} and its claim [{progress.ClaimFrom}, {progress.ClaimTo}).");
            }

            Exec(connection, transaction, "UPDATE destination_progress SET claim_from = $from, claim_to = $to, claim_settings = $settings, updated_at = $at WHERE destination_id = $id", ("$from", from), ("$to", to), ("$settings", settingsJson), ("$at", StoreTime.Text(at)), ("$id", destinationId));
            return Load(connection, transaction, destinationId)!;
        }, cancellationToken);
    }

    public Task<DestinationProgress> FinishAsync(long destinationId, DeliveryCounts counts, long? finishedTo, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return database.WriteAsync((connection, transaction) =>
        {
            CheckFence(connection, transaction, destinationId, fence);
            AddCounts(connection, transaction, destinationId, counts, finishedTo, at);
            return Load(connection, transaction, destinationId)!;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<DeliveryRunRow>> ListRunsAsync(long destinationId, int limit, CancellationToken cancellationToken) =>
        await SqliteReads.ListAsync(database, $"SELECT {RunColumns} FROM delivery_runs WHERE destination_id = $id ORDER BY id DESC LIMIT $limit", ReadRun, cancellationToken, ("$id", destinationId), ("$limit", limit)).ConfigureAwait(false);

    public Task PutRejectedAsync(long destinationId, IReadOnlyList<NewRejectedRecord> records, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }

        return database.WriteAsync((connection, transaction) =>
        {
            CheckFence(connection, transaction, destinationId, fence);
            var command = database.Prepare(
                "rejected.put",
                """
                INSERT INTO rejected_records (destination_id, record_offset, stage, message, status, response, possibly_delivered, retryable, at, retry_generation)
                VALUES ($destination, $offset, $stage, $message, $status, $response, $possibly, $retryable, $at, 0)
                ON CONFLICT (destination_id, record_offset) DO UPDATE SET stage = excluded.stage, message = excluded.message, status = excluded.status,
                    response = excluded.response, possibly_delivered = excluded.possibly_delivered, retryable = excluded.retryable, at = excluded.at, retry_generation = 0
                """,
                "$destination", "$offset", "$stage", "$message", "$status", "$response", "$possibly", "$retryable", "$at");
            command.Transaction = transaction;
            foreach (var record in records)
            {
                var p = command.Parameters;
                p["$destination"].Value = destinationId;
                p["$offset"].Value = record.Offset;
                p["$stage"].Value = record.Stage;
                p["$message"].Value = record.Message;
                p["$status"].Value = (object?)record.Status ?? DBNull.Value;
                p["$response"].Value = (object?)record.Response ?? DBNull.Value;
                p["$possibly"].Value = record.PossiblyDelivered;
                p["$retryable"].Value = record.Retryable;
                p["$at"].Value = StoreTime.Text(record.At);
                command.ExecuteNonQuery();
            }

            return true;
        }, cancellationToken);
    }

    public async Task<Page<RejectedRecordRow>> ListRejectedAsync(long destinationId, long afterOffset, int limit, CancellationToken cancellationToken)
    {
        var rows = await SqliteReads.ListAsync(database, $"SELECT {RejectedColumns} FROM rejected_records WHERE destination_id = $id AND record_offset > $after ORDER BY record_offset LIMIT $limit", ReadRejected, cancellationToken, ("$id", destinationId), ("$after", afterOffset), ("$limit", limit + 1)).ConfigureAwait(false);
        return rows.Count > limit ? new Page<RejectedRecordRow>(rows[..limit], rows[limit - 1].Offset) : new Page<RejectedRecordRow>(rows, null);
    }

    public Task<IReadOnlyList<long>> BeginRetryAsync(long destinationId, IReadOnlyList<long>? offsets, bool includePossiblyDelivered, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<long>>((connection, transaction) =>
        {
            var progress = Ensure(connection, transaction, destinationId);
            if (progress.RetryGeneration != 0)
            {
                throw new StoreConflictException(StoreConflict.VersionMismatch, "a retry of this destination's records is under way; wait until it ends.");
            }

            var generation = progress.LastRetryGeneration + 1;
            var filter = includePossiblyDelivered ? string.Empty : " AND possibly_delivered = 0";
            var marked = new List<long>();
            if (offsets is null)
            {
                using var all = Command(connection, transaction, $"UPDATE rejected_records SET retry_generation = $generation WHERE destination_id = $id{filter} RETURNING record_offset", ("$generation", generation), ("$id", destinationId));
                using var reader = all.ExecuteReader();
                while (reader.Read())
                {
                    marked.Add(reader.GetInt64(0));
                }
            }
            else
            {
                foreach (var offset in offsets.Distinct())
                {
                    using var one = Command(connection, transaction, $"UPDATE rejected_records SET retry_generation = $generation WHERE destination_id = $id AND record_offset = $offset{filter} RETURNING record_offset", ("$generation", generation), ("$id", destinationId), ("$offset", offset));
                    if (one.ExecuteScalar() is long found)
                    {
                        marked.Add(found);
                    }
                }
            }

            marked.Sort();
            if (marked.Count > 0)
            {
                Exec(connection, transaction, "UPDATE destination_progress SET retry_generation = $generation, last_retry_generation = $generation, updated_at = $at WHERE destination_id = $id", ("$generation", generation), ("$at", StoreTime.Text(at)), ("$id", destinationId));
            }

            return marked;
        }, cancellationToken);

    public async Task<(long Rejected, long PossiblyDelivered)> CountRejectedAsync(long destinationId, CancellationToken cancellationToken)
    {
        var rows = await SqliteReads.ListAsync(database, "SELECT COALESCE(SUM(1 - possibly_delivered), 0), COALESCE(SUM(possibly_delivered), 0) FROM rejected_records WHERE destination_id = $id", r => (r.GetInt64(0), r.GetInt64(1)), cancellationToken, ("$id", destinationId)).ConfigureAwait(false);
        return rows[0];
    }

    public async Task<IReadOnlyList<long>> RetryingAsync(long destinationId, int generation, CancellationToken cancellationToken) =>
        await SqliteReads.ListAsync(database, "SELECT record_offset FROM rejected_records WHERE destination_id = $id AND retry_generation = $generation ORDER BY record_offset", r => r.GetInt64(0), cancellationToken, ("$id", destinationId), ("$generation", generation)).ConfigureAwait(false);

    public Task EndRetryAsync(long destinationId, int generation, DeliveryCounts counts, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return database.WriteAsync((connection, transaction) =>
        {
            CheckFence(connection, transaction, destinationId, fence);
            AddCounts(connection, transaction, destinationId, counts, finishedTo: null, at);
            Exec(connection, transaction, "DELETE FROM rejected_records WHERE destination_id = $id AND retry_generation = $generation", ("$id", destinationId), ("$generation", generation));
            Exec(connection, transaction, "UPDATE destination_progress SET retry_generation = 0, updated_at = $at WHERE destination_id = $id AND retry_generation = $generation", ("$at", StoreTime.Text(at)), ("$id", destinationId), ("$generation", generation));
            return true;
        }, cancellationToken);
    }

    /// <summary>Adds <paramref name="counts"/> to the destination's totals and its open run; with <paramref name="finishedTo"/>, moves the cursor there and clears the claim.</summary>
    private static void AddCounts(SqliteConnection connection, SqliteTransaction transaction, long destinationId, DeliveryCounts counts, long? finishedTo, DateTimeOffset at)
    {
        var progress = Ensure(connection, transaction, destinationId);
        var now = StoreTime.Text(at);
        const string Add = "delivered = delivered + $delivered, rejected = rejected + $rejected, possibly_delivered = possibly_delivered + $possibly, requests = requests + $requests, retries = retries + $retries, rate_limit_waits = rate_limit_waits + $waits";
        (string, object?)[] deltas = [("$delivered", counts.Delivered), ("$rejected", counts.Rejected), ("$possibly", counts.PossiblyDelivered), ("$requests", counts.Requests), ("$retries", counts.Retries), ("$waits", counts.RateLimitWaits)];
        Exec(
            connection,
            transaction,
            $"""
            UPDATE destination_progress SET {Add},
                last_error = COALESCE($error, last_error), last_error_at = CASE WHEN $error IS NULL THEN last_error_at ELSE $at END,
                cursor = CASE WHEN $to IS NULL THEN cursor ELSE $to END,
                claim_from = CASE WHEN $to IS NULL THEN claim_from ELSE NULL END,
                claim_to = CASE WHEN $to IS NULL THEN claim_to ELSE NULL END,
                claim_settings = CASE WHEN $to IS NULL THEN claim_settings ELSE NULL END,
                updated_at = $at
            WHERE destination_id = $id
            """,
            [.. deltas, ("$error", counts.LastError), ("$to", finishedTo), ("$at", now), ("$id", destinationId)]);
        if (progress.RunId is { } run)
        {
            Exec(connection, transaction, $"UPDATE delivery_runs SET {Add}, last_error = COALESCE($error, last_error) WHERE id = $run", [.. deltas, ("$error", counts.LastError), ("$run", run)]);
        }
    }

    /// <summary>Refuses the write unless <paramref name="fence"/> (when given) still holds the destination: one writer at a time, so a read is enough.</summary>
    internal static void CheckFence(SqliteConnection connection, SqliteTransaction transaction, long destinationId, DeliveryFence? fence)
    {
        if (fence is null)
        {
            return;
        }

        using var command = Command(connection, transaction, "SELECT epoch FROM destination_progress WHERE destination_id = $id", ("$id", destinationId));
        var epoch = command.ExecuteScalar() as long? ?? 0;
        if (epoch != fence.Epoch)
        {
            throw new StoreConflictException(StoreConflict.Fenced, $"destination {destinationId} was acquired by another writer (epoch {epoch}); this one (epoch {fence.Epoch}) may no longer write it.");
        }
    }

    private static DestinationProgress Ensure(SqliteConnection connection, SqliteTransaction transaction, long destinationId)
    {
        Exec(connection, transaction, "INSERT OR IGNORE INTO destination_progress (destination_id) VALUES ($id)", ("$id", destinationId));
        return Load(connection, transaction, destinationId)!;
    }

    private static DestinationProgress? Load(SqliteConnection connection, SqliteTransaction transaction, long destinationId)
    {
        using var command = Command(connection, transaction, $"SELECT {ProgressColumns} FROM destination_progress WHERE destination_id = $id", ("$id", destinationId));
        return ReadOne(command, ReadProgress);
    }

    private static void Exec(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static DestinationProgress ReadProgress(SqliteDataReader r) => new()
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

    private static DeliveryRunRow ReadRun(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.GetInt64(1),
        StoreTime.Parse(r.GetString(2)),
        r.GetString(3),
        NullableTime(r, 4),
        NullableString(r, 5),
        new DeliveryCounts(r.GetInt64(6), r.GetInt64(7), r.GetInt64(8), r.GetInt64(9), r.GetInt64(10), r.GetInt64(11), NullableString(r, 12)));

    private static RejectedRecordRow ReadRejected(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetString(2),
        r.IsDBNull(3) ? null : r.GetInt32(3),
        NullableString(r, 4),
        r.GetBoolean(5),
        r.GetBoolean(6),
        StoreTime.Parse(r.GetString(7)),
        r.GetInt32(8));
}
