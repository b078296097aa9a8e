using System.Security.Cryptography;
using System.Text;

namespace Kiteflow.Storage.Postgres.Migrations;

/// <summary>
/// One versioned step of the PostgreSQL schema: SQL run once, in its own transaction, and recorded in
/// <c>kiteflow_schema_version</c> with its checksum. A step that has shipped is never edited: a change is a
/// new step with the next version.
/// </summary>
public sealed class PostgresMigration
{
    /// <summary>Creates a step.</summary>
    /// <param name="version">Its version: the steps of a list are numbered 1, 2, 3… without gaps.</param>
    /// <param name="name">A short name that says what it does, kept in the version table.</param>
    /// <param name="sql">The SQL it runs (several statements are fine; it runs inside a transaction).</param>
    public PostgresMigration(int version, string name, string sql)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        Version = version;
        Name = name;
        Sql = sql;
        // Line endings do not change what SQL means: a checkout with CRLF must not look like an edited step.
        var normalized = sql.ReplaceLineEndings("\n").Trim();
        Checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
    }

    /// <summary>The step's version.</summary>
    public int Version { get; }

    /// <summary>The step's name.</summary>
    public string Name { get; }

    /// <summary>The SQL the step runs.</summary>
    public string Sql { get; }

    /// <summary>SHA-256 of the SQL (line endings normalized), to notice a step edited after it was applied.</summary>
    public string Checksum { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Version} ({Name})";
}
