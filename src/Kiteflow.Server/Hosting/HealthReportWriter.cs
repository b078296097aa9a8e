using System.Text.Json.Nodes;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kiteflow.Server.Hosting;

/// <summary>
/// <c>/healthz</c>'s answer, as JSON: the overall status (Healthy, Degraded, Unhealthy; the HTTP status is 200 unless
/// Unhealthy), then the store (which one, never its password) and the cluster (this silo, its role and the active silos).
/// </summary>
internal static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var body = new JsonObject
        {
            ["status"] = report.Status.ToString(),
            ["store"] = Entry(report, "store", new JsonObject { ["location"] = context.RequestServices.GetRequiredService<ServerPaths>().Store.ToString() }),
            ["cluster"] = Entry(report, "cluster", new JsonObject()),
        };
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static JsonObject Entry(HealthReport report, string name, JsonObject into)
    {
        if (report.Entries.TryGetValue(name, out var entry))
        {
            into["status"] = entry.Status.ToString();
            into["description"] = entry.Description;
            foreach (var (key, value) in entry.Data)
            {
                into[key] = value is JsonNode node ? node.DeepClone() : JsonValue.Create(value.ToString());
            }
        }

        return into;
    }
}
