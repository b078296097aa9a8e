using Microsoft.Data.Sqlite;

namespace Kiteflow.Storage.Sqlite;

/// <summary>Turns SQLite's constraint errors into the contract's conflicts.</summary>
internal static class SqliteErrors
{
    private const int Constraint = 19;

    public static bool IsUniqueViolation(SqliteException e) => e.SqliteErrorCode == Constraint && e.Message.Contains("UNIQUE", StringComparison.Ordinal);

    public static T NameTaken<T>(Func<T> work, string what, string name)
    {
        try
        {
            return work();
        }
        catch (SqliteException e) when (IsUniqueViolation(e))
        {
            throw new StoreConflictException(StoreConflict.NameTaken, $"a {what} named '{name}' already exists.");
        }
    }
}
