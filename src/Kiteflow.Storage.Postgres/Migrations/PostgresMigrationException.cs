namespace Kiteflow.Storage.Postgres.Migrations;

/// <summary>
/// The database's schema cannot be brought to the version this Kiteflow needs: a step failed (and was
/// rolled back), the database is newer than this Kiteflow, or an applied step differs from the one shipped.
/// The message says which step and what to do; it never contains the connection string's password.
/// </summary>
public sealed class PostgresMigrationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PostgresMigrationException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public PostgresMigrationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public PostgresMigrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
