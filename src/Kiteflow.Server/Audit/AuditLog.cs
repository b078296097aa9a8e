using System.Text.Json.Nodes;
using Kiteflow.Storage;

namespace Kiteflow.Server.Audit;

/// <summary>The audit log over the store.</summary>
internal sealed class AuditLog(IKiteflowStore store, ServerOptions options) : IAuditLog
{
    public Task RecordAsync(string actor, string action, string resourceType, string? resourceName, JsonObject? details, CancellationToken cancellationToken)
    {
        var text = details is null ? null : Redaction.Redact(details).ToJsonString(ServerJson.Options);
        return store.Audit.AppendAsync(new NewAuditEntry(options.TimeProvider.GetUtcNow(), actor, action, resourceType, resourceName, text), cancellationToken);
    }
}
