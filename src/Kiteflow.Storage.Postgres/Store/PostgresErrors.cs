using System.Net.Sockets;
using Kiteflow.Storage.Postgres.Connection;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>
/// Npgsql's failures in the contract's terms: a <see cref="StoreException"/> whose message says what went wrong in
/// one line, with every secret of the connection string masked (a server may quote what it was sent).
/// </summary>
internal static class PostgresErrors
{
    /// <summary>The SQLSTATE of a write whose fence is stale (<c>kiteflow_check_fence</c>).</summary>
    public const string FencedState = "KF001";

    /// <summary>What went wrong, in one line, with any secret masked.</summary>
    public static string Explain(NpgsqlException e, PostgresConnectionString connectionString)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(connectionString);
        var text = e switch
        {
            PostgresException server => $"{server.MessageText} (SQLSTATE {server.SqlState})",
            { InnerException: SocketException or IOException or TimeoutException } => $"{e.Message}: {e.InnerException.Message}",
            _ => e.Message,
        };
        return connectionString.Scrub(text);
    }

    /// <summary>The store could not do <paramref name="what"/> (e.g. <c>write the ledger</c>).</summary>
    public static StoreException Failed(NpgsqlException e, PostgresConnectionString connectionString, string what) =>
        new($"The store {connectionString.Display} could not {what}: {Explain(e, connectionString)}", e);

    /// <summary>Runs <paramref name="work"/>; an Npgsql failure becomes a <see cref="StoreException"/> saying it could not do <paramref name="what"/>.</summary>
    public static async Task<T> GuardAsync<T>(PostgresConnectionString connectionString, string what, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == FencedState)
        {
            throw new StoreConflictException(StoreConflict.Fenced, e.MessageText);
        }
        catch (NpgsqlException e)
        {
            throw Failed(e, connectionString, what);
        }
    }
}
