using System.Text.Json;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary><c>/api/v1/audit</c>: the audit log, newest first, paged, filtered by resource.</summary>
internal static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/audit", ListAsync).WithTags("Audit").WithSummary("Audit entries, newest first: ?resourceType=destination&resourceName=NAME&before=ID&limit=N.");
    }

    private static async Task<Results<Ok<AuditPage>, ValidationProblem>> ListAsync(string? resourceType, string? resourceName, long? before, int? limit, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 500)
        {
            return Problems.Invalid("limit", $"{limit} is out of range; ask for 1 to 500 entries.");
        }

        var page = await store.Audit.ListAsync(resourceType, resourceName, before, limit ?? 50, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new AuditPage(
            [.. page.Items.Select(r => new AuditView(r.Id, r.At, r.Actor, r.Action, r.ResourceType, r.ResourceName, r.DetailsJson is null ? null : JsonSerializer.Deserialize<JsonElement>(r.DetailsJson)))],
            page.Next));
    }

    /// <summary>One audit entry.</summary>
    internal sealed record AuditView(long Id, DateTimeOffset At, string Actor, string Action, string ResourceType, string? ResourceName, JsonElement? Details);

    /// <summary>A page of entries; <c>next</c> goes in <c>?before=</c>.</summary>
    internal sealed record AuditPage(AuditView[] Items, long? Next);
}
