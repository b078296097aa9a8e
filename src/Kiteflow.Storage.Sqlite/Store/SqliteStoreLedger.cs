using System.Globalization;
using System.Runtime.ExceptionServices;
using Kiteflow.Delivery.Ledger;
using Microsoft.Data.Sqlite;
using static Kiteflow.Storage.Sqlite.SqliteReads;

namespace Kiteflow.Storage.Sqlite;

/// <summary>
/// The delivery ledger inside the server's store, written by the store's one writer in the order calls come: a
/// durable write returns once committed; any other is committed before every write after it, and a failed one
/// is reported by the next flush or durable write (the batch then stays as the last committed entry says, which
/// the runner settles safely on its next run).
/// </summary>
internal sealed class SqliteStoreLedger(SqliteDatabase database) : IDeliveryLedger, ILedgerFencing
{
    private const char HistorySeparator = '~';
    private const string Columns = "positions, state, attempts, delivery_id, status, message, response, updated_at";
    private ExceptionDispatchInfo? _failure;

    public async Task<long> CountAsync(string run, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var rows = await ListAsync(database, "SELECT COUNT(*) FROM ledger WHERE run = $run", r => r.GetInt64(0), cancellationToken, ("$run", run)).ConfigureAwait(false);
        return rows[0];
    }

    public async Task<LedgerEntry?> FindAsync(string run, long firstPosition, CancellationToken cancellationToken) =>
        (await ListAsync(database, $"SELECT {Columns} FROM ledger WHERE run = $run AND first_position = $first", r => Read(r, run, firstPosition), cancellationToken, ("$run", run), ("$first", firstPosition)).ConfigureAwait(false)).FirstOrDefault();

    public Task WriteAsync(LedgerEntry entry, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var write = Write([entry]);
        if (durable)
        {
            return write.WaitAsync(cancellationToken);
        }

        _ = write.ContinueWith(t => _failure ??= ExceptionDispatchInfo.Capture(t.Exception!.GetBaseException()), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task WriteAllAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return entries.Count == 0 ? Task.CompletedTask : Write(entries).WaitAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        // The writer commits in order: once this empty write is done, so is every write before it.
        await database.WriteAsync(static (_, _) => true, cancellationToken).ConfigureAwait(false);
        _failure?.Throw();
    }

    public async Task<int> GenerationAsync(string run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var rows = await ListAsync(
            database,
            "SELECT COUNT(DISTINCT run) FROM ledger WHERE run > $prefix AND run < $end",
            r => r.GetInt64(0),
            cancellationToken,
            ("$prefix", run + HistorySeparator),
            ("$end", run + (char)(HistorySeparator + 1))).ConfigureAwait(false);
        return (int)rows[0];
    }

    public async Task<long> RestartAsync(string run, bool resendDelivered, bool lookUpPossiblyDelivered, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var generation = resendDelivered ? await GenerationAsync(run, cancellationToken).ConfigureAwait(false) : 0;
        return await database.WriteAsync((connection, transaction) =>
        {
            if (resendDelivered)
            {
                // Kept as history under another name, so the generation (and the delivery ids with it) only grows;
                // a marker row at position -1 records the generation even for a run that had recorded nothing.
                var history = $"{run}{HistorySeparator}{generation + 1}";
                using var move = Command(connection, transaction, "UPDATE ledger SET run = $history WHERE run = $run", ("$history", history), ("$run", run));
                var moved = move.ExecuteNonQuery();
                using var marker = Command(connection, transaction, "INSERT OR IGNORE INTO ledger (run, first_position, positions, state, attempts, updated_at) VALUES ($history, -1, '', $pending, 0, $now)", ("$history", history), ("$pending", (int)BatchState.Pending), ("$now", StoreTime.Text(DateTimeOffset.UtcNow)));
                marker.ExecuteNonQuery();
                return (long)moved;
            }

            using var forget = Command(connection, transaction, "DELETE FROM ledger WHERE run = $run AND state = $rejected", ("$run", run), ("$rejected", (int)BatchState.Rejected));
            var changed = forget.ExecuteNonQuery();
            using var reopen = Command(connection, transaction, "UPDATE ledger SET state = $reopened, status = NULL, message = NULL, response = NULL WHERE run = $run AND state = $possibly", ("$reopened", (int)(lookUpPossiblyDelivered ? BatchState.InFlight : BatchState.Pending)), ("$run", run), ("$possibly", (int)BatchState.PossiblyDelivered));
            return (long)(changed + reopen.ExecuteNonQuery());
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task WriteFencedAsync(IReadOnlyList<LedgerEntry> entries, DeliveryFence fence)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(fence);
        return Write(entries, fence);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;  // the store owns the database

    private Task<bool> Write(IReadOnlyList<LedgerEntry> entries, DeliveryFence? fence = null) => database.WriteAsync((connection, transaction) =>
    {
        SqliteDeliveryStore.CheckFence(connection, transaction, fence?.DestinationId ?? 0, fence);
        var command = database.Prepare(
            "ledger.put",
            """
            INSERT INTO ledger (run, first_position, positions, state, attempts, delivery_id, status, message, response, updated_at)
            VALUES ($run, $first, $positions, $state, $attempts, $delivery_id, $status, $message, $response, $updated_at)
            ON CONFLICT (run, first_position) DO UPDATE SET positions = excluded.positions, state = excluded.state, attempts = excluded.attempts,
                delivery_id = excluded.delivery_id, status = excluded.status, message = excluded.message, response = excluded.response, updated_at = excluded.updated_at
            """,
            "$run", "$first", "$positions", "$state", "$attempts", "$delivery_id", "$status", "$message", "$response", "$updated_at");
        command.Transaction = transaction;
        foreach (var entry in entries)
        {
            var p = command.Parameters;
            p["$run"].Value = entry.Run;
            p["$first"].Value = entry.FirstPosition;
            p["$positions"].Value = string.Join(',', entry.Positions);
            p["$state"].Value = (int)entry.State;
            p["$attempts"].Value = entry.Attempts;
            p["$delivery_id"].Value = (object?)entry.DeliveryId ?? DBNull.Value;
            p["$status"].Value = (object?)entry.Status ?? DBNull.Value;
            p["$message"].Value = (object?)entry.Message ?? DBNull.Value;
            p["$response"].Value = (object?)entry.Response ?? DBNull.Value;
            p["$updated_at"].Value = StoreTime.Text(entry.UpdatedAt);
            command.ExecuteNonQuery();
        }

        return true;
    }, CancellationToken.None);

    private static LedgerEntry Read(SqliteDataReader r, string run, long firstPosition) => new()
    {
        Run = run,
        FirstPosition = firstPosition,
        Positions = r.GetString(0).Length == 0 ? [] : Array.ConvertAll(r.GetString(0).Split(','), p => long.Parse(p, CultureInfo.InvariantCulture)),
        State = (BatchState)r.GetInt32(1),
        Attempts = r.GetInt32(2),
        DeliveryId = NullableString(r, 3),
        Status = r.IsDBNull(4) ? null : r.GetInt32(4),
        Message = NullableString(r, 5),
        Response = NullableString(r, 6),
        UpdatedAt = StoreTime.Parse(r.GetString(7)),
    };
}
