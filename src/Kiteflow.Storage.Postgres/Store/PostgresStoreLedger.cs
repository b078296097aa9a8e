using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Storage.Postgres.Connection;
using Npgsql;
using NpgsqlTypes;
using static Kiteflow.Storage.Postgres.Store.PostgresCommands;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>
/// The delivery ledger inside the PostgreSQL store, with the SQLite store's semantics: writes are applied in the order
/// they are made, by one writer per process; a durable write returns once committed; any other is committed before
/// every write made after it, and a failed one is reported by the next flush or durable write (the batch then stays
/// as its last committed entry says, which the runner settles safely on its next run). The writer takes every write
/// waiting when it gets to them and commits them as one statement (an upsert over arrays, the last entry of a batch
/// winning), so a run's non-durable writes cost one round trip per group rather than one each.
/// </summary>
/// <remarks>
/// A group that fails on a broken connection is written again (the upsert is idempotent, and nothing after it has been
/// written yet, so the order holds). <see cref="RestartAsync"/> runs in the same order, in a transaction that holds an
/// advisory lock on the run's name: two processes restarting one run take turns, and each generation is counted once.
/// </remarks>
internal sealed class PostgresStoreLedger : IDeliveryLedger, ILedgerFencing
{
    private const char HistorySeparator = '~';
    private const int MaxGroupEntries = 1_000;
    private const int Attempts = 3;
    private const string Columns = "positions, state, attempts, delivery_id, status, message, response, updated_at";

    private const string UpsertSql = """
        INSERT INTO ledger (run, first_position, positions, state, attempts, delivery_id, status, message, response, updated_at)
        SELECT run, first_position, string_to_array(positions, ',')::bigint[], state, attempts, delivery_id, status, message, response, updated_at
        FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::integer[], $8::text[], $9::text[], $10::timestamptz[])
            AS u (run, first_position, positions, state, attempts, delivery_id, status, message, response, updated_at)
        ON CONFLICT (run, first_position) DO UPDATE SET positions = excluded.positions, state = excluded.state, attempts = excluded.attempts,
            delivery_id = excluded.delivery_id, status = excluded.status, message = excluded.message, response = excluded.response, updated_at = excluded.updated_at
        """;

    // A run's history is named run~1, run~2…: the range (run~, run\x7f) of the byte-wise ("C") key.
    private const string GenerationSql = "SELECT count(DISTINCT run) FROM ledger WHERE run > ($1::text COLLATE \"C\") AND run < ($2::text COLLATE \"C\")";

    private readonly NpgsqlDataSource _source;
    private readonly PostgresConnectionString _connectionString;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private ExceptionDispatchInfo? _failure;

    public PostgresStoreLedger(NpgsqlDataSource source, PostgresConnectionString connectionString)
    {
        _source = source;
        _connectionString = connectionString;
        _writer = Task.Run(WriteLoopAsync);
    }

    public async Task<long> CountAsync(string run, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync("read the ledger", async () =>
        {
            await using var command = _source.CreateCommand("SELECT count(*) FROM ledger WHERE run = $1");
            command.Parameters.Add(Text(run));
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }).ConfigureAwait(false);
    }

    public Task<LedgerEntry?> FindAsync(string run, long firstPosition, CancellationToken cancellationToken) =>
        ReadAsync("read the ledger", () => OneAsync(_source, $"SELECT {Columns} FROM ledger WHERE run = $1 AND first_position = $2", r => Read(r, run, firstPosition), cancellationToken, Text(run), Long(firstPosition)));

    public Task WriteAsync(LedgerEntry entry, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var write = Enqueue(new Write([entry], durable, null));
        return durable ? CompleteAsync(write, cancellationToken) : Task.CompletedTask;
    }

    public Task WriteAllAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return entries.Count == 0 ? Task.CompletedTask : CompleteAsync(Enqueue(new Write([.. entries], durable: true, null)), cancellationToken);
    }

    public Task FlushAsync(CancellationToken cancellationToken) =>
        // Done once every write made before it is: the writer takes them in order.
        CompleteAsync(Enqueue(new Write(null, durable: true, null)), cancellationToken);

    public async Task<int> GenerationAsync(string run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync("read the ledger", async () =>
        {
            await using var command = _source.CreateCommand(GenerationSql);
            command.Parameters.Add(Text(run + HistorySeparator));
            command.Parameters.Add(Text(run + (char)(HistorySeparator + 1)));
            return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }).ConfigureAwait(false);
    }

    public async Task<long> RestartAsync(string run, bool resendDelivered, bool lookUpPossiblyDelivered, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var write = Enqueue(new Write(null, durable: true, () => RestartNowAsync(run, resendDelivered, lookUpPossiblyDelivered)));
        await CompleteAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.ConfigureAwait(false);
    }

    public Task WriteFencedAsync(IReadOnlyList<LedgerEntry> entries, DeliveryFence fence)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(fence);

        // Durable in the queue's terms: its failure is its own, never reported by another writer's flush.
        return Enqueue(new Write([.. entries], durable: true, null) { Fence = fence }).Done.Task;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;  // the store owns the ledger: see CloseAsync

    /// <summary>Takes no more writes, and returns once every write made before is committed (or has failed).</summary>
    internal async Task CloseAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    internal static string StateText(BatchState state) => state switch
    {
        BatchState.Pending => "pending",
        BatchState.InFlight => "in_flight",
        BatchState.Delivered => "delivered",
        BatchState.Rejected => "rejected",
        BatchState.PossiblyDelivered => "possibly_delivered",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    private static BatchState ParseState(string text) => text switch
    {
        "pending" => BatchState.Pending,
        "in_flight" => BatchState.InFlight,
        "delivered" => BatchState.Delivered,
        "rejected" => BatchState.Rejected,
        "possibly_delivered" => BatchState.PossiblyDelivered,
        _ => throw new StoreException($"The ledger holds a batch in an unknown state '{text}'."),
    };

    private static LedgerEntry Read(NpgsqlDataReader r, string run, long firstPosition) => new()
    {
        Run = run,
        FirstPosition = firstPosition,
        Positions = r.GetFieldValue<long[]>(0),
        State = ParseState(r.GetString(1)),
        Attempts = r.GetInt32(2),
        DeliveryId = NullableString(r, 3),
        Status = r.IsDBNull(4) ? null : r.GetInt32(4),
        Message = NullableString(r, 5),
        Response = NullableString(r, 6),
        UpdatedAt = Time(r, 7),
    };

    private Write Enqueue(Write write) =>
        _queue.Writer.TryWrite(write) ? write : throw new ObjectDisposedException(nameof(PostgresStoreLedger), "The store is closed.");

    /// <summary>Waits for <paramref name="write"/>; then reports a failed write made before it without waiting, once.</summary>
    private async Task CompleteAsync(Write write, CancellationToken cancellationToken)
    {
        await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _failure, null)?.Throw();
    }

    private async Task<T> ReadAsync<T>(string what, Func<Task<T>> read) => await PostgresErrors.GuardAsync(_connectionString, what, read).ConfigureAwait(false);

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var group = new List<Write>();
        Write? carried = null;
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var first = carried;
            carried = null;
            if (first is null && !reader.TryRead(out first))
            {
                continue;
            }

            if (first.Work is { } work)
            {
                await RunAsync(first, work).ConfigureAwait(false);
                continue;
            }

            // Entries and flushes waiting behind this one join its statement, up to a bound; a restart waits its turn.
            group.Clear();
            group.Add(first);
            var entries = first.Entries?.Count ?? 0;
            while (entries < MaxGroupEntries && reader.TryRead(out var next))
            {
                if (next.Work is not null)
                {
                    carried = next;
                    break;
                }

                group.Add(next);
                entries += next.Entries?.Count ?? 0;
            }

            await WriteGroupAsync(group, entries).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(Write write, Func<Task<long>> work)
    {
        try
        {
            write.Done.TrySetResult(await work().ConfigureAwait(false));
        }
        catch (NpgsqlException e)
        {
            write.Done.TrySetException(PostgresErrors.Failed(e, _connectionString, "restart a run in the ledger"));
        }
        catch (Exception e)
        {
            write.Done.TrySetException(e);
        }
    }

    private async Task WriteGroupAsync(List<Write> group, int entries)
    {
        Exception? failure = null;
        var stale = new Dictionary<DeliveryFence, long>();
        if (entries > 0)
        {
            try
            {
                stale = await UpsertAsync(group).ConfigureAwait(false);
            }
            catch (NpgsqlException e)
            {
                failure = PostgresErrors.Failed(e, _connectionString, "write the ledger");
            }
            catch (Exception e)
            {
                failure = e;
            }
        }

        if (failure is not null && group.Exists(w => !w.Durable))
        {
            // Nobody waits for these: the next flush or durable write reports it (kept before any of them completes).
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(failure), null);
        }

        foreach (var write in group)
        {
            if (failure is not null && write.Durable && write.Entries is not null)
            {
                write.Done.TrySetException(failure);
            }
            else if (write.Fence is { } fence && stale.TryGetValue(fence, out var epoch))
            {
                write.Done.TrySetException(new StoreConflictException(StoreConflict.Fenced, $"destination {fence.DestinationId} was acquired by another writer (epoch {epoch}); this one (epoch {fence.Epoch}) may no longer write it."));
            }
            else
            {
                write.Done.TrySetResult(0);
            }
        }
    }

    /// <summary>Writes the group's entries; entries whose writer's fence is stale are left out. Returns the stale fences, with the epoch each destination has now.</summary>
    private async Task<Dictionary<DeliveryFence, long>> UpsertAsync(List<Write> group)
    {
        var fenced = group.Where(w => w.Fence is not null).Select(w => w.Fence!.DestinationId).Distinct().Order().ToArray();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var connection = await _source.OpenConnectionAsync().ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    if (fenced.Length == 0)
                    {
                        // No writer to check: one statement, its own transaction.
                        await UpsertRowsAsync(connection, null, Latest(group, null)).ConfigureAwait(false);
                        return [];
                    }

                    var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
                    await using (transaction.ConfigureAwait(false))
                    {
                        var stale = new Dictionary<DeliveryFence, long>();
                        // Held until the commit: an acquisition waits for these entries, and entries after it see its epoch.
                        var epochs = new Dictionary<long, long>();
                        await using (var read = Command(connection, transaction, "SELECT destination_id, epoch FROM destination_progress WHERE destination_id = ANY($1) ORDER BY destination_id FOR SHARE", ArrayOf(fenced, NpgsqlDbType.Bigint)))
                        {
                            foreach (var (destination, epoch) in await ReadAllAsync(read, r => (r.GetInt64(0), r.GetInt64(1)), CancellationToken.None).ConfigureAwait(false))
                            {
                                epochs[destination] = epoch;
                            }
                        }

                        foreach (var fence in group.Select(w => w.Fence).OfType<DeliveryFence>().Distinct())
                        {
                            var now = epochs.GetValueOrDefault(fence.DestinationId);
                            if (now != fence.Epoch)
                            {
                                stale[fence] = now;
                            }
                        }

                        var rows = Latest(group, stale);
                        if (rows.Length > 0)
                        {
                            await UpsertRowsAsync(connection, transaction, rows).ConfigureAwait(false);
                        }

                        await transaction.CommitAsync().ConfigureAwait(false);
                        return stale;
                    }
                }
            }
            catch (NpgsqlException e) when (e.IsTransient && attempt < Attempts)
            {
                // A connection the server or the network broke: the pool gives a new one. Writing the same rows again is
                // harmless, and nothing after them has been written, so the order holds.
            }
        }
    }

    /// <summary>The entries to write, but those of stale writers: one statement may change a row once, so the last entry of a batch wins, as it would written one after another.</summary>
    private static LedgerEntry[] Latest(List<Write> group, Dictionary<DeliveryFence, long>? stale)
    {
        var latest = new Dictionary<(string Run, long First), LedgerEntry>();
        foreach (var write in group.Where(w => w.Fence is null || stale is null || !stale.ContainsKey(w.Fence)))
        {
            foreach (var entry in write.Entries ?? [])
            {
                latest[(entry.Run, entry.FirstPosition)] = entry;
            }
        }

        return [.. latest.Values];
    }

    private static async Task UpsertRowsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, LedgerEntry[] rows)
    {
        await using var command = new NpgsqlCommand(UpsertSql, connection, transaction);
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => e.Run), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => e.FirstPosition), NpgsqlDbType.Bigint));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => string.Join(',', e.Positions)), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => StateText(e.State)), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => e.Attempts), NpgsqlDbType.Integer));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => e.DeliveryId), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => e.Status), NpgsqlDbType.Integer));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => FreeText(e.Message)), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => FreeText(e.Response)), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayOf(Array.ConvertAll(rows, e => e.UpdatedAt.ToUniversalTime()), NpgsqlDbType.TimestampTz));
        await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<long> RestartNowAsync(string run, bool resendDelivered, bool lookUpPossiblyDelivered)
    {
        var connection = await _source.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // Restarts of one run, from any process, one after another: each counts the generation the last one left.
                await using (var turn = Command(connection, transaction, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", Text("kiteflow ledger run " + run)))
                {
                    await turn.ExecuteNonQueryAsync().ConfigureAwait(false);
                }

                long changed;
                await using (var batch = new NpgsqlBatch(connection, transaction))
                {
                    if (resendDelivered)
                    {
                        long generation;
                        await using (var count = Command(connection, transaction, GenerationSql, Text(run + HistorySeparator), Text(run + (char)(HistorySeparator + 1))))
                        {
                            generation = (long)(await count.ExecuteScalarAsync().ConfigureAwait(false))!;
                        }

                        // Kept as history under another name, so the generation (and the delivery ids with it) only grows;
                        // a marker row at position -1 records the generation even for a run that had recorded nothing.
                        var history = string.Create(CultureInfo.InvariantCulture, $"{run}{HistorySeparator}{generation + 1}");
                        batch.BatchCommands.Add(BatchCommand("UPDATE ledger SET run = $1 WHERE run = $2", Text(history), Text(run)));
                        batch.BatchCommands.Add(BatchCommand(
                            "INSERT INTO ledger (run, first_position, positions, state, attempts, updated_at) VALUES ($1, -1, '{}', 'pending', 0, now()) ON CONFLICT DO NOTHING",
                            Text(history)));
                        await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
                        changed = batch.BatchCommands[0].RecordsAffected;
                    }
                    else
                    {
                        batch.BatchCommands.Add(BatchCommand("DELETE FROM ledger WHERE run = $1 AND state = 'rejected'", Text(run)));
                        batch.BatchCommands.Add(BatchCommand(
                            "UPDATE ledger SET state = $2, status = NULL, message = NULL, response = NULL WHERE run = $1 AND state = 'possibly_delivered'",
                            Text(run),
                            Text(StateText(lookUpPossiblyDelivered ? BatchState.InFlight : BatchState.Pending))));
                        await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
                        changed = batch.BatchCommands[0].RecordsAffected + batch.BatchCommands[1].RecordsAffected;
                    }
                }

                await transaction.CommitAsync().ConfigureAwait(false);
                return changed;
            }
        }
    }

    /// <summary>
    /// One write in the queue: entries to upsert, work to run in turn (a restart), or neither (a flush). Durable: its
    /// caller waits for it and hears of its failure itself.
    /// </summary>
    private sealed class Write(IReadOnlyList<LedgerEntry>? entries, bool durable, Func<Task<long>>? work)
    {
        public IReadOnlyList<LedgerEntry>? Entries { get; } = entries;

        public bool Durable { get; } = durable;

        public Func<Task<long>>? Work { get; } = work;

        /// <summary>The fence of the writer whose entries these are; null for the unfenced ledger.</summary>
        public DeliveryFence? Fence { get; init; }

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
