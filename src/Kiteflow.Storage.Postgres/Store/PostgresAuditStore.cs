using Npgsql;
using static Kiteflow.Storage.Postgres.Store.PostgresCommands;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>The audit log in PostgreSQL.</summary>
internal sealed class PostgresAuditStore(NpgsqlDataSource source) : IAuditStore
{
    private const string Columns = "id, at, actor, action, resource_type, resource_name, details";

    public async Task<AuditRow> AppendAsync(NewAuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return (await OneAsync(
            source,
            $"INSERT INTO audit_log (at, actor, action, resource_type, resource_name, details) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {Columns}",
            Read,
            cancellationToken,
            Time(entry.At),
            Text(entry.Actor),
            Text(entry.Action),
            Text(entry.ResourceType),
            Text(entry.ResourceName),
            Text(entry.DetailsJson)).ConfigureAwait(false))!;
    }

    public async Task<Page<AuditRow>> ListAsync(string? resourceType, string? resourceName, long? beforeId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var rows = await PostgresCommands.ListAsync(
            source,
            $"""
            SELECT {Columns} FROM audit_log
            WHERE ($1::text IS NULL OR resource_type = $1) AND ($2::text IS NULL OR resource_name = $2) AND id < $3
            ORDER BY id DESC LIMIT $4
            """,
            Read,
            cancellationToken,
            Text(resourceType),
            Text(resourceName),
            Long(beforeId ?? long.MaxValue),
            Long(limit + 1L)).ConfigureAwait(false);
        var more = rows.Count > limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new Page<AuditRow>(rows, more ? rows[^1].Id : null);
    }

    private static AuditRow Read(NpgsqlDataReader r) =>
        new(r.GetInt64(0), Time(r, 1), r.GetString(2), r.GetString(3), r.GetString(4), NullableString(r, 5), NullableString(r, 6));
}
