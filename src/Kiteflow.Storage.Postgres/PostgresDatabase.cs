using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Storage.Postgres.Migrations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Kiteflow.Storage.Postgres;

/// <summary>
/// One PostgreSQL database as this process uses it: a pooled <see cref="NpgsqlDataSource"/> and Kiteflow's
/// migrations, applied once per process before the first use (a failed attempt is retried by the next caller).
/// </summary>
internal sealed class PostgresDatabase : IAsyncDisposable, IDisposable
{
    private readonly PostgresMigrator _migrator;
    private readonly SemaphoreSlim _migrateGate = new(1, 1);
    private volatile bool _migrated;

    public PostgresDatabase(PostgresConnectionString connectionString, ILoggerFactory? loggerFactory = null)
        : this(connectionString, KiteflowPostgresMigrations.All, loggerFactory)
    {
    }

    public PostgresDatabase(PostgresConnectionString connectionString, IReadOnlyList<PostgresMigration> migrations, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        loggerFactory ??= NullLoggerFactory.Instance;
        ConnectionString = connectionString;
        var builder = new NpgsqlDataSourceBuilder(connectionString.ToNpgsqlConnectionString());
        builder.UseLoggerFactory(loggerFactory);

        // Kiteflow runs a few dozen statements over and over (an append is the same five): prepared once per
        // connection, each skips parsing and planning after the first use. The connection string can still say otherwise.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }

        // A process paused (SIGSTOP, a stall) in the middle of a transaction would hold its row locks for as long as it
        // stays paused — its connection stays open — and a destination's fence row locked so blocks the silo that took
        // the destination over (seen in the cluster's SIGSTOP test). Every Kiteflow transaction is a few statements sent
        // back to back, so the server ends a session idle inside one for 10 s, which releases its locks.
        if (!(builder.ConnectionStringBuilder.Options ?? string.Empty).Contains("idle_in_transaction_session_timeout", StringComparison.Ordinal))
        {
            builder.ConnectionStringBuilder.Options = $"{builder.ConnectionStringBuilder.Options} -c idle_in_transaction_session_timeout={(int)IdleInTransactionTimeout.TotalMilliseconds}".Trim();
        }

        DataSource = builder.Build();
        _migrator = new PostgresMigrator(connectionString, migrations, loggerFactory.CreateLogger<PostgresMigrator>());
    }

    /// <summary>How long the server lets a session of this process sit idle inside a transaction before it ends it.</summary>
    public static TimeSpan IdleInTransactionTimeout { get; } = TimeSpan.FromSeconds(10);

    public PostgresConnectionString ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>The newest schema version this process knows.</summary>
    public int LatestVersion => _migrator.LatestVersion;

    public async Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        if (_migrated)
        {
            return;
        }

        await _migrateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_migrated)
            {
                await _migrator.MigrateAsync(cancellationToken).ConfigureAwait(false);
                _migrated = true;
            }
        }
        finally
        {
            _migrateGate.Release();
        }
    }

    /// <summary>Applies the pending steps now, whether or not this process did before (the store's <c>MigrateAsync</c>).</summary>
    public async Task<PostgresMigrationResult> MigrateAsync(CancellationToken cancellationToken)
    {
        await _migrateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await _migrator.MigrateAsync(cancellationToken).ConfigureAwait(false);
            _migrated = true;
            return result;
        }
        finally
        {
            _migrateGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync().ConfigureAwait(false);
        _migrateGate.Dispose();
    }

    public void Dispose()
    {
        DataSource.Dispose();
        _migrateGate.Dispose();
    }
}
