using System.Collections.Concurrent;
using Kiteflow.Storage.Postgres.Connection;
using Microsoft.Extensions.Logging;

namespace Kiteflow.Storage.Postgres;

/// <summary>
/// The databases a process talks to, one <see cref="PostgresDatabase"/> (one pool, one migration) per
/// connection string however many providers (membership, reminders, the store) use it.
/// </summary>
// Both dispose forms: a container disposed synchronously must not throw for an async-only singleton.
internal sealed class PostgresDatabases(ILoggerFactory loggerFactory) : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<PostgresDatabase>> _databases = new(StringComparer.Ordinal);

    public PostgresDatabase Get(PostgresConnectionString connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return _databases.GetOrAdd(
            connectionString.ToNpgsqlConnectionString(),
            _ => new Lazy<PostgresDatabase>(() => new PostgresDatabase(connectionString, loggerFactory))).Value;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _databases.Values.Where(d => d.IsValueCreated))
        {
            await database.Value.DisposeAsync().ConfigureAwait(false);
        }

        _databases.Clear();
    }

    public void Dispose()
    {
        foreach (var database in _databases.Values.Where(d => d.IsValueCreated))
        {
            database.Value.Dispose();
        }

        _databases.Clear();
    }
}
