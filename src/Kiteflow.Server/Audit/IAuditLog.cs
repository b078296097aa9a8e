using System.Text.Json.Nodes;

namespace Kiteflow.Server.Audit;

/// <summary>
/// Records what happened, by whom, in the audit log. Details are redacted before they are stored: values under
/// keys that name a secret (token, password, secret, authorization, key…) become <c>••••</c>. Callers never pass a
/// plain token on purpose; the redaction is the second line.
/// </summary>
public interface IAuditLog
{
    /// <summary>Appends an entry.</summary>
    /// <param name="actor">Who: a user name, <c>admin (api-key kfk_…)</c>, or <c>system</c> for background work.</param>
    /// <param name="action">What, as <c>resource.verb</c>: <c>destination.activate</c>, <c>destination.test-send</c>, …</param>
    /// <param name="resourceType">The kind of resource: <c>dataset</c>, <c>credential</c>, <c>destination</c>, <c>session</c>, <c>api-key</c>.</param>
    /// <param name="resourceName">Its name, when there is one.</param>
    /// <param name="details">More (e.g. a settings diff from <see cref="SettingsDiff"/>), or null.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    Task RecordAsync(string actor, string action, string resourceType, string? resourceName, JsonObject? details, CancellationToken cancellationToken);
}
