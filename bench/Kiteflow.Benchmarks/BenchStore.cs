using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Benchmarks;

/// <summary>
/// A store for the ingest harnesses, named on their command line:
/// <list type="bullet">
/// <item><c>sqlite</c>: the default SQLite file in a fresh data folder (WAL, <c>synchronous=NORMAL</c>: a commit is in the
/// OS when it returns, and survives the process being killed, not a power loss);</item>
/// <item><c>postgres</c>: a fresh database on a throwaway PostgreSQL server this process starts (initdb + pg_ctl, as the
/// tests do) with PostgreSQL's own durability: every commit flushed to disk (<c>fsync</c>, <c>synchronous_commit</c>,
/// <c>full_page_writes</c> on);</item>
/// <item><c>postgres-unflushed</c>: the same server with <c>fsync = off</c>: a commit is written to the OS but not flushed,
/// SQLite's NORMAL guarantee, so the two stores do the same work per commit;</item>
/// <item><c>postgres://…</c>: an existing, empty database of yours.</item>
/// </list>
/// </summary>
internal sealed class BenchStore : IAsyncDisposable
{
    private static PostgresServer? _server;

    private BenchStore(string name, string? serverStore, string dataDirectory)
    {
        Name = name;
        ServerStore = serverStore;
        DataDirectory = dataDirectory;
    }

    /// <summary>What the results table calls it.</summary>
    public string Name { get; }

    /// <summary>The value for <c>ServerOptions.Store</c> (null: SQLite in <see cref="DataDirectory"/>).</summary>
    public string? ServerStore { get; }

    /// <summary>A fresh data folder (master key, session keys, and the SQLite file for <c>sqlite</c>).</summary>
    public string DataDirectory { get; }

    public static async Task<BenchStore> OpenAsync(string spec)
    {
        var directory = Directory.CreateTempSubdirectory("kiteflow-store-bench-").FullName;
        switch (spec)
        {
            case "sqlite":
                return new BenchStore(spec, null, directory);
            case "postgres" or "postgres-unflushed":
                _server ??= await PostgresServer.StartAsync();
                await ConfigureAsync(flushed: spec == "postgres");
                var database = new NpgsqlConnectionStringBuilder(await _server.CreateDatabaseAsync()).Database!;
                return new BenchStore(spec, _server.UriFor(database), directory);
            default:
                if (!PostgresConnectionString.TryParse(spec, out var given, out var error))
                {
                    throw new ArgumentException($"a store is sqlite, postgres, postgres-unflushed or a postgres:// URI: {error}");
                }

                return new BenchStore(given.Display, spec, directory);
        }
    }

    /// <summary>Stops the throwaway PostgreSQL server, if one was started.</summary>
    public static async Task StopServerAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(DataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>The throwaway server starts with durability off (it is for tests); the benchmark says what it measures.</summary>
    private static async Task ConfigureAsync(bool flushed)
    {
        await using var admin = NpgsqlDataSource.Create(_server!.ConnectionStringFor("postgres"));
        var on = flushed ? "on" : "off";
        foreach (var sql in new[] { $"ALTER SYSTEM SET fsync = {on}", $"ALTER SYSTEM SET full_page_writes = {on}", "ALTER SYSTEM SET synchronous_commit = on", "SELECT pg_reload_conf()" })
        {
            await using var command = admin.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
        }
    }
}
