using System.Globalization;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>One API request as the sandbox's request log has it: when it arrived, what it was, how it was answered.</summary>
internal sealed record SandboxRequest(DateTimeOffset Time, string Method, string Path, int? Status, string? Body);

/// <summary>Reads a sandbox's request log (<c>GET /_sandbox/requests</c>): the API calls (<c>/v2/…</c>), oldest first.</summary>
internal static class SandboxRequests
{
    public static async Task<List<SandboxRequest>> ReadAsync(SandboxServer sandbox)
    {
        using var client = new HttpClient();
        var log = JsonNode.Parse(await client.GetStringAsync(new Uri(sandbox.BaseAddress, "/_sandbox/requests")))!;
        if ((long)log["dropped"]! > 0)
        {
            throw new InvalidOperationException($"the sandbox's request log dropped {(long)log["dropped"]!} requests: raise RequestLogCapacity");
        }

        return log["requests"]!.AsArray()
            .Select(r => new SandboxRequest(
                DateTimeOffset.Parse((string)r!["time"]!, CultureInfo.InvariantCulture),
                (string)r["method"]!,
                (string?)r["path"] ?? string.Empty,
                (int?)r["status"],
                (string?)r["body"]))
            .Where(r => r.Path.StartsWith("/v2/", StringComparison.Ordinal))
            .OrderBy(r => r.Time)
            .ToList();
    }
}
