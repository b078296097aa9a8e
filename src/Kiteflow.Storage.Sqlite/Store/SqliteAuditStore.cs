using Microsoft.Data.Sqlite;
using static Kiteflow.Storage.Sqlite.SqliteReads;

namespace Kiteflow.Storage.Sqlite;

/// <summary>The audit log in SQLite.</summary>
internal sealed class SqliteAuditStore(SqliteDatabase database) : IAuditStore
{
    private const string Columns = "id, at, actor, action, resource_type, resource_name, details";

    public Task<AuditRow> AppendAsync(NewAuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return database.WriteAsync((connection, transaction) =>
        {
            using var command = Command(
                connection,
                transaction,
                $"INSERT INTO audit_log (at, actor, action, resource_type, resource_name, details) VALUES ($at, $actor, $action, $type, $name, $details) RETURNING {Columns}",
                ("$at", StoreTime.Text(entry.At)),
                ("$actor", entry.Actor),
                ("$action", entry.Action),
                ("$type", entry.ResourceType),
                ("$name", entry.ResourceName),
                ("$details", entry.DetailsJson));
            return ReadOne(command, Read)!;
        }, cancellationToken);
    }

    public async Task<Page<AuditRow>> ListAsync(string? resourceType, string? resourceName, long? beforeId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var rows = await SqliteReads.ListAsync(
            database,
            $"""
            SELECT {Columns} FROM audit_log
            WHERE ($type IS NULL OR resource_type = $type) AND ($name IS NULL OR resource_name = $name) AND id < $before
            ORDER BY id DESC LIMIT $limit
            """,
            Read,
            cancellationToken,
            ("$type", resourceType),
            ("$name", resourceName),
            ("$before", beforeId ?? long.MaxValue),
            ("$limit", limit + 1)).ConfigureAwait(false);
        var more = rows.Count > limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new Page<AuditRow>(rows, more ? rows[^1].Id : null);
    }

    private static AuditRow Read(SqliteDataReader r) =>
        new(r.GetInt64(0), StoreTime.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), NullableString(r, 5), NullableString(r, 6));
}
