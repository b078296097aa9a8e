using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Kiteflow.Storage.Sqlite;

/// <summary>
/// One SQLite file in WAL mode: one writer connection on a thread of its own that runs every change, in order,
/// each in its own transaction (so writes never contend for the lock), and pooled connections for reads, which
/// WAL lets run beside the writer.
/// </summary>
internal sealed class SqliteDatabase : IAsyncDisposable
{
    private readonly Channel<WriteOperation> _writes = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly Task _writeLoop;

    private SqliteDatabase(string path, SqliteConnection writer, string readConnectionString)
    {
        Path = path;
        _writer = writer;
        _readConnectionString = readConnectionString;

        // SQLite's calls block: the writer gets a thread of its own rather than holding a pool thread.
        _writeLoop = Task.Factory.StartNew(WriteLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public string Path { get; }

    /// <summary>Statements the writer prepared once and reuses, by name.</summary>
    public Dictionary<string, SqliteCommand> Prepared { get; } = new(StringComparer.Ordinal);

    public static SqliteDatabase Open(string path, SqliteStoreOptions options)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(fullPath)!;
        CreatePrivateDirectory(directory);
        CreatePrivateFile(fullPath);

        var pragmas = $"PRAGMA busy_timeout = 30000; PRAGMA synchronous = {(options.FlushEveryCommit ? "FULL" : "NORMAL")}; PRAGMA cache_size = {options.CacheSize}; PRAGMA foreign_keys = ON;";
        var writeConnectionString = new SqliteConnectionStringBuilder { DataSource = fullPath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString();
        var readConnectionString = new SqliteConnectionStringBuilder { DataSource = fullPath, Mode = SqliteOpenMode.ReadWrite, Pooling = true }.ToString();
        var writer = new SqliteConnection(writeConnectionString);
        try
        {
            writer.Open();
            using var command = writer.CreateCommand();

            // WAL: readers see the last commit while the writer goes on; a commit is in the WAL file when it returns,
            // so it survives the process being killed. The WAL and -shm files take the database file's mode (0600).
            command.CommandText = "PRAGMA journal_mode = WAL; " + pragmas;
            command.ExecuteNonQuery();
        }
        catch (SqliteException e)
        {
            writer.Dispose();
            throw new StoreException($"The store {fullPath} cannot be opened: {e.Message}", e);
        }

        return new SqliteDatabase(fullPath, writer, readConnectionString);
    }

    /// <summary>Runs <paramref name="work"/> on the writer in a transaction of its own; the task completes once it is committed.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        var operation = new WriteOperation<T>(work, cancellationToken);
        if (!_writes.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteKiteflowStore));
        }

        return operation.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>A pooled connection for reading; dispose it to return it.</summary>
    public async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 30000;";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A statement prepared once on the writer connection (call only from a write operation).</summary>
    public SqliteCommand Prepare(string name, string sql, params string[] parameters)
    {
        if (Prepared.TryGetValue(name, out var command))
        {
            return command;
        }

        command = _writer.CreateCommand();
        command.CommandText = sql;
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = parameter });
        }

        command.Prepare();
        Prepared[name] = command;
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writeLoop.ConfigureAwait(false);
        foreach (var command in Prepared.Values)
        {
            command.Dispose();
        }

        await _writer.DisposeAsync().ConfigureAwait(false);
        SqliteConnection.ClearPool(new SqliteConnection(_readConnectionString));
    }

    private void WriteLoop()
    {
        while (_writes.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (_writes.Reader.TryRead(out var operation))
            {
                operation.Run(_writer);
            }
        }
    }

    private static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Creates the database file with mode 0600 before SQLite opens it (SQLite would use the umask).</summary>
    private static void CreatePrivateFile(string path)
    {
        if (OperatingSystem.IsWindows() || File.Exists(path))
        {
            return;
        }

        try
        {
            using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first.
        }
    }

    private abstract class WriteOperation
    {
        public abstract void Run(SqliteConnection connection);
    }

    private sealed class WriteOperation<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken) : WriteOperation
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(SqliteConnection connection)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Completion.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                var result = work(connection, transaction);
                transaction.Commit();
                Completion.TrySetResult(result);
            }
            catch (Exception e)
            {
                // Every failure goes back to the caller, which owns it; the writer goes on with the next operation.
                Completion.TrySetException(e is SqliteException sqlite ? new StoreException($"The store refused a change: {sqlite.Message}", sqlite) : e);
            }
        }
    }
}
