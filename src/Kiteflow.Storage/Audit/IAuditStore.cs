namespace Kiteflow.Storage;

/// <summary>The audit log: append and list, newest first.</summary>
public interface IAuditStore
{
    /// <summary>Appends an entry.</summary>
    Task<AuditRow> AppendAsync(NewAuditEntry entry, CancellationToken cancellationToken);

    /// <summary>Entries newest first, optionally of one resource type (and name), with ids below <paramref name="beforeId"/> (null: from the newest).</summary>
    Task<Page<AuditRow>> ListAsync(string? resourceType, string? resourceName, long? beforeId, int limit, CancellationToken cancellationToken);
}
