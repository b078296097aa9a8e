using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Kiteflow.Storage;
using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Storage.Postgres.Store;
using Kiteflow.Storage.Sqlite;

namespace Kiteflow.Server.Hosting;

/// <summary>
/// The store <c>--store</c> (or <c>KITEFLOW_STORE</c>) names, chosen by its scheme: <c>sqlite:PATH</c> for a SQLite file,
/// <c>postgres://…</c> (or <c>postgresql://…</c>) for a PostgreSQL database. Its text form and every problem it reports
/// leave out the password: a value that is neither is not repeated at all, since it may be a mistyped connection string.
/// </summary>
internal sealed partial class StoreLocation
{
    public const string Usage = "use sqlite:PATH (e.g. sqlite:/var/lib/kiteflow/kiteflow.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE";

    private const string SqliteScheme = "sqlite:";

    private StoreLocation(string? sqlitePath, PostgresConnectionString? postgres)
    {
        SqlitePath = sqlitePath;
        Postgres = postgres;
    }

    /// <summary>The SQLite file, or null for PostgreSQL.</summary>
    public string? SqlitePath { get; }

    /// <summary>The PostgreSQL database, or null for SQLite.</summary>
    public PostgresConnectionString? Postgres { get; }

    /// <summary>The default: <c>kiteflow.db</c> in the data folder.</summary>
    public static StoreLocation Default(string dataDirectory) => new(Path.Combine(dataDirectory, "kiteflow.db"), null);

    /// <summary>Reads <paramref name="value"/>; on failure <paramref name="problem"/> is one line naming the option, without any secret.</summary>
    public static bool TryParse(string value, [NotNullWhen(true)] out StoreLocation? location, [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(value);
        location = null;
        var text = value.Trim();
        if (text.StartsWith(SqliteScheme, StringComparison.OrdinalIgnoreCase))
        {
            var path = text[SqliteScheme.Length..];
            if (path.Length == 0)
            {
                problem = "--store: sqlite: needs a path, e.g. sqlite:/var/lib/kiteflow/kiteflow.db.";
                return false;
            }

            location = new StoreLocation(Path.GetFullPath(path), null);
            problem = null;
            return true;
        }

        if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            if (!PostgresConnectionString.TryParse(text, out var postgres, out var error))
            {
                problem = $"--store: {error}";
                return false;
            }

            location = new StoreLocation(null, postgres);
            problem = null;
            return true;
        }

        // Only a plain scheme is repeated: anything after it may be a password.
        problem = Scheme().Match(text) is { Success: true } scheme
            ? $"--store: '{scheme.Value}' is not a store this Kiteflow knows; {Usage}."
            : $"--store: the value is neither sqlite:PATH nor a postgres:// URI (it is not repeated here, as it may hold a password); {Usage}.";
        return false;
    }

    /// <summary>Opens the store (nothing is created or migrated yet).</summary>
    /// <exception cref="StoreException">A SQLite file that cannot be opened.</exception>
    public IKiteflowStore Open(ILoggerFactory loggerFactory) =>
        Postgres is { } postgres ? PostgresKiteflowStore.Open(postgres, loggerFactory) : SqliteKiteflowStore.Open(SqlitePath!);

    /// <summary><c>sqlite:PATH</c> or <c>postgres://USER@HOST:PORT/DATABASE</c>: never the password.</summary>
    public override string ToString() => Postgres is { } postgres ? postgres.Display : SqliteScheme + SqlitePath;

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]{0,30}:", RegexOptions.CultureInvariant)]
    private static partial Regex Scheme();
}
