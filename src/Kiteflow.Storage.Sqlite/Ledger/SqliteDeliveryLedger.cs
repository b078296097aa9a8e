using System.Threading.Channels;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Ledger;
using Microsoft.Data.Sqlite;

namespace Kiteflow.Storage.Sqlite.Ledger;

/// <summary>
/// The delivery ledger in one SQLite file. The database runs in WAL mode with synchronous=NORMAL: a
/// committed transaction survives the process being killed (only an OS crash or power loss could lose
/// the last commits). Writes go through one writer that commits everything queued in one transaction
/// (group commit), so concurrent senders share the cost of a commit; a durable write waits for its
/// transaction, a non-durable one does not.
/// </summary>
public sealed class SqliteDeliveryLedger : IDeliveryLedger
{
    /// <summary>Separates a run's name from the generation of its history (<c>run~1</c>, <c>run~2</c>, …).</summary>
    private const char HistorySeparator = '~';

    private readonly string _connectionString;
    private readonly Channel<Write> _writes = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly SqliteConnection _readConnection;
    private readonly SemaphoreSlim _readLock = new(1, 1);

    private SqliteDeliveryLedger(string connectionString, SqliteConnection readConnection)
    {
        _connectionString = connectionString;
        _readConnection = readConnection;
        // SQLite's calls block, so the writer gets a thread of its own rather than holding a pool thread
        // (which starves the senders' continuations while the pool slowly grows).
        _writer = Task.Factory.StartNew(WriteLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The file the ledger lives in.</summary>
    public string Path { get; private init; } = string.Empty;

    /// <summary>Opens (creating when needed) the ledger at <paramref name="path"/>.</summary>
    public static Task<SqliteDeliveryLedger> OpenAsync(string path, CancellationToken cancellationToken = default) =>
        OpenAsync(path, writerConnectionString: null, cancellationToken);

    /// <summary>
    /// As <see cref="OpenAsync(string, CancellationToken)"/>; the writer thread opens <paramref name="writerConnectionString"/>
    /// instead of the ledger's own (tests give one that cannot be opened, to see the writer fail).
    /// </summary>
    internal static async Task<SqliteDeliveryLedger> OpenAsync(string path, string? writerConnectionString, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);

        // The ledger holds Buildkite's answers (messages, rejected bodies): its folder is made 0700 and the file 0600
        // before SQLite opens it. SQLite gives the -wal and -shm files it creates the database file's mode; ones left
        // wider by an older version are narrowed.
        PrivateFiles.Touch(path);
        PrivateFiles.NarrowIfExists(path + "-wal");
        PrivateFiles.NarrowIfExists(path + "-shm");

        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString();
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA busy_timeout = 10000;
                CREATE TABLE IF NOT EXISTS batches (
                    run TEXT NOT NULL,
                    first_position INTEGER NOT NULL,
                    positions TEXT NOT NULL,
                    state INTEGER NOT NULL,
                    attempts INTEGER NOT NULL,
                    delivery_id TEXT,
                    status INTEGER,
                    message TEXT,
                    response TEXT,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (run, first_position)
                ) WITHOUT ROWID;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return new SqliteDeliveryLedger(writerConnectionString ?? connectionString, connection) { Path = path };
    }

    /// <inheritdoc />
    public async Task<long> CountAsync(string run, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _readConnection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM batches WHERE run = $run";
            command.Parameters.AddWithValue("$run", run);
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<LedgerEntry?> FindAsync(string run, long firstPosition, CancellationToken cancellationToken)
    {
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _readConnection.CreateCommand();
            command.CommandText = "SELECT positions, state, attempts, delivery_id, status, message, response, updated_at FROM batches WHERE run = $run AND first_position = $first";
            command.Parameters.AddWithValue("$run", run);
            command.Parameters.AddWithValue("$first", firstPosition);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new LedgerEntry
            {
                Run = run,
                FirstPosition = firstPosition,
                Positions = Array.ConvertAll(reader.GetString(0).Split(','), p => long.Parse(p, System.Globalization.CultureInfo.InvariantCulture)),
                State = (BatchState)reader.GetInt32(1),
                Attempts = reader.GetInt32(2),
                DeliveryId = reader.IsDBNull(3) ? null : reader.GetString(3),
                Status = reader.IsDBNull(4) ? null : reader.GetInt32(4),
                Message = reader.IsDBNull(5) ? null : reader.GetString(5),
                Response = reader.IsDBNull(6) ? null : reader.GetString(6),
                UpdatedAt = DateTimeOffset.Parse(reader.GetString(7), System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <inheritdoc />
    public Task WriteAsync(LedgerEntry entry, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var write = new Write(entry, durable ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null);
        if (!_writes.Writer.TryWrite(write))
        {
            return Closed();
        }

        return write.Committed?.Task.WaitAsync(cancellationToken) ?? Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteAllAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            if (!_writes.Writer.TryWrite(new Write(entry, null)))
            {
                return Closed();
            }
        }

        // The writer commits in order, so once this marker's transaction is done, so are the entries before it.
        return FlushAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var marker = new Write(null, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return _writes.Writer.TryWrite(marker) ? marker.Committed!.Task.WaitAsync(cancellationToken) : _writer;
    }

    /// <inheritdoc />
    public async Task<int> GenerationAsync(string run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _readConnection.CreateCommand();
            command.CommandText = "SELECT COUNT(DISTINCT run) FROM batches WHERE run > $prefix AND run < $end AND substr(run, 1, length($prefix)) = $prefix";
            command.Parameters.AddWithValue("$prefix", run + HistorySeparator);
            command.Parameters.AddWithValue("$end", run + (char)(HistorySeparator + 1));
            return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<long> RestartAsync(string run, bool resendDelivered, bool lookUpPossiblyDelivered, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var generation = resendDelivered ? await GenerationAsync(run, cancellationToken).ConfigureAwait(false) : 0;
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var transaction = (SqliteTransaction)await _readConnection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = _readConnection.CreateCommand();
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$run", run);
            long changed;
            if (resendDelivered)
            {
                // Kept as history under another name, so the generation (and with it the delivery ids) can only grow.
                command.CommandText = "UPDATE batches SET run = $history WHERE run = $run";
                command.Parameters.AddWithValue("$history", $"{run}{HistorySeparator}{generation + 1}");
                changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

                // A row at position -1 marks the generation as used even when the run had recorded nothing yet: the
                // delivery ids of what is sent next carry the new generation, and every later run must find it.
                command.CommandText = """
                    INSERT OR IGNORE INTO batches (run, first_position, positions, state, attempts, updated_at)
                    VALUES ($history, -1, '', $marker, 0, $now)
                    """;
                command.Parameters.AddWithValue("$marker", (int)BatchState.Pending);
                command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                command.CommandText = "DELETE FROM batches WHERE run = $run AND state = $rejected";
                command.Parameters.AddWithValue("$rejected", (int)BatchState.Rejected);
                changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                command.CommandText = "UPDATE batches SET state = $reopened, status = NULL, message = NULL, response = NULL WHERE run = $run AND state = $possibly";
                command.Parameters.AddWithValue("$reopened", (int)(lookUpPossiblyDelivered ? BatchState.InFlight : BatchState.Pending));
                command.Parameters.AddWithValue("$possibly", (int)BatchState.PossiblyDelivered);
                changed += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return changed;
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();

        // A writer that failed has failed every write given to it since; its error is theirs, not the dispose's.
        await _writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _readConnection.DisposeAsync().ConfigureAwait(false);
        _readLock.Dispose();
    }

    /// <summary>Why no more writes are taken: the writer failed (its error), or the ledger was disposed.</summary>
    private Task Closed() =>
        _writer.IsFaulted ? Task.FromException(_writer.Exception!.InnerException!) : throw new ObjectDisposedException(nameof(SqliteDeliveryLedger));

    /// <summary>
    /// The writer thread. Should it fail outside a transaction's own error handling — its connection cannot be opened,
    /// say — no write may wait for it for ever (a send would hang): writes are refused from then on, and every write
    /// already queued fails with the writer's error.
    /// </summary>
    private void WriteLoop()
    {
        try
        {
            WriteBatches();
        }
        catch (Exception e)
        {
            _writes.Writer.TryComplete(e);
            while (_writes.Reader.TryRead(out var write))
            {
                write.Committed?.TrySetException(e);
            }

            throw;
        }
    }

    private void WriteBatches()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;";
            pragma.ExecuteNonQuery();
        }

        using var upsert = connection.CreateCommand();
        upsert.CommandText = """
            INSERT INTO batches (run, first_position, positions, state, attempts, delivery_id, status, message, response, updated_at)
            VALUES ($run, $first, $positions, $state, $attempts, $delivery, $status, $message, $response, $updated)
            ON CONFLICT (run, first_position) DO UPDATE SET
                positions = excluded.positions, state = excluded.state, attempts = excluded.attempts,
                delivery_id = excluded.delivery_id, status = excluded.status, message = excluded.message,
                response = excluded.response, updated_at = excluded.updated_at
            """;
        var parameters = new[] { "$run", "$first", "$positions", "$state", "$attempts", "$delivery", "$status", "$message", "$response", "$updated" }
            .Select(name => upsert.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
        upsert.Prepare();

        var pending = new List<Write>();
        while (_writes.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            pending.Clear();
            while (pending.Count < 4096 && _writes.Reader.TryRead(out var write))
            {
                pending.Add(write);
            }

            try
            {
                using (var transaction = connection.BeginTransaction())
                {
                    upsert.Transaction = transaction;
                    foreach (var write in pending)
                    {
                        if (write.Entry is { } e)
                        {
                            Bind(parameters, e);
                            upsert.ExecuteNonQuery();
                        }
                    }

                    transaction.Commit();
                }

                foreach (var write in pending)
                {
                    write.Committed?.TrySetResult();
                }
            }
            catch (Exception e)
            {
                foreach (var write in pending)
                {
                    write.Committed?.TrySetException(e);
                }

                // The store's own errors fail only these writes; anything else ends the writer.
                if (e is not (SqliteException or IOException or InvalidOperationException))
                {
                    throw;
                }
            }
        }
    }

    private static void Bind(SqliteParameter[] p, LedgerEntry e)
    {
        p[0].Value = e.Run;
        p[1].Value = e.FirstPosition;
        p[2].Value = e.Positions.Count == 1 ? e.Positions[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Join(',', e.Positions);
        p[3].Value = (int)e.State;
        p[4].Value = e.Attempts;
        p[5].Value = (object?)e.DeliveryId ?? DBNull.Value;
        p[6].Value = (object?)e.Status ?? DBNull.Value;
        p[7].Value = (object?)e.Message ?? DBNull.Value;
        p[8].Value = (object?)e.Response ?? DBNull.Value;
        p[9].Value = e.UpdatedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Write(LedgerEntry? Entry, TaskCompletionSource? Committed);
}
