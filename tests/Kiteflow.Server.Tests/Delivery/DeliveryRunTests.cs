using System.Text;
using System.Text.RegularExpressions;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// What a real delivery run with a non-sandbox token left behind (<see cref="DeliveryRunFixture"/>): no trace of the
/// token in any API answer, log line, metric or file of the store; the delivery instruments at <c>/metrics</c>.
/// </summary>
public sealed partial class DeliveryRunTests(DeliveryRunFixture run) : IClassFixture<DeliveryRunFixture>
{
    private const string D = DeliveryRunFixture.Destination;

    [Fact]
    public async Task DeliveryRun_NonSandboxToken_NoTokenInAnyAnswerLogLineMetricOrStoreFile()
    {
        var client = run.Api.Client;
        var answers = new Dictionary<string, string>();
        foreach (var path in (string[])
        [
            $"/api/v1/destinations/{D}/status", $"/api/v1/destinations/{D}/runs", $"/api/v1/destinations/{D}/rejected",
            $"/api/v1/destinations/{D}", $"/api/v1/destinations/{D}/export", "/api/v1/destinations",
            "/api/v1/credentials", "/api/v1/credentials/acme-ci", "/api/v1/datasets", $"/api/v1/datasets/{D}-responses",
            $"/api/v1/datasets/{D}-responses/records?limit=1000", $"/api/v1/datasets/{D}-responses/export?format=jsonl",
            $"/api/v1/datasets/{D}-responses/export?format=csv", $"/api/v1/datasets/{D}-responses/schema",
            "/api/v1/audit?limit=500", "/metrics", "/openapi/v1.json",
        ])
        {
            answers[path] = await client.GetStringAsync(path);
        }

        // The run really left what is searched: the refused record with Buildkite's answer, every call's record with
        // its request headers (the token's place shown as Bearer ••••), the audit of the activation.
        Assert.Contains("no-such-pipeline", answers[$"/api/v1/destinations/{D}/rejected"]);
        var responses = (await run.Api.RecordsAsync($"{D}-responses")).Select(r => r.Record).ToList();
        Assert.True(responses.Count >= DeliveryRunFixture.Delivered + 1, $"{responses.Count} response records");
        Assert.All(responses, r => Assert.Equal("Bearer ••••", (string?)r["request"]!["headers"]!["Authorization"]));
        Assert.Contains("destination.activate", answers["/api/v1/audit?limit=500"]);
        Assert.Contains("credential.check", answers["/api/v1/audit?limit=500"]);

        foreach (var (path, answer) in answers)
        {
            Assert.False(answer.Contains(DeliveryRunFixture.Token, StringComparison.Ordinal), $"GET {path} shows the token");
        }

        var logs = run.Server.Logs.Lines.ToList();
        Assert.Contains(logs, l => l.Contains($"Destination '{D}' delivering", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Contains(DeliveryRunFixture.Token, StringComparison.Ordinal));
        Assert.DoesNotContain(DeliveryRunFixture.Token, run.Server.Output.ToString());

        // Nor in the store's files, in any form a reader could take it from: the token is sealed with AES-GCM.
        foreach (var file in Directory.GetFiles(run.Server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            var bytes = await ReadSharedAsync(file);
            Assert.False(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(DeliveryRunFixture.Token)) >= 0, $"{file} holds the token");
            Assert.False(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(DeliveryRunFixture.Token)))) >= 0, $"{file} holds the token in base64");
        }
    }

    [Fact]
    public async Task DeliveryRun_Metrics_RecordsRequestsWaitsLagAndCallDuration_ByDestination()
    {
        var metrics = await run.Api.Client.GetStringAsync("/metrics");

        Assert.Equal(DeliveryRunFixture.Delivered, Value(metrics, "kiteflow_delivery_records_total", $"destination=\"{D}\"", "outcome=\"delivered\""));
        Assert.Equal(1, Value(metrics, "kiteflow_delivery_records_total", $"destination=\"{D}\"", "outcome=\"rejected\""));
        Assert.Equal(DeliveryRunFixture.Delivered, Value(metrics, "kiteflow_delivery_requests_total", $"destination=\"{D}\"", "kind=\"attempt\"", "status=\"2xx\""));
        Assert.True(Value(metrics, "kiteflow_delivery_requests_total", $"destination=\"{D}\"", "kind=\"attempt\"", "status=\"4xx\"") >= 1);
        Assert.True(Value(metrics, "kiteflow_delivery_rate_limit_waits_total", $"destination=\"{D}\"") >= 1, "the scaled-down user limit made the run wait");
        Assert.Equal(0, Value(metrics, "kiteflow_delivery_lag", $"destination=\"{D}\""));
        Assert.True(Value(metrics, "kiteflow_delivery_call_duration_seconds_count", $"destination=\"{D}\"", "kind=\"attempt\"") >= DeliveryRunFixture.Delivered + 1);
        Assert.Contains("kiteflow_delivery_call_duration_seconds_bucket{", metrics);
        Assert.True((long)run.Status["rateLimitWaits"]! >= 1, run.Status.ToJsonString());
    }

    /// <summary>The value of the one series of <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    private static double Value(string metrics, string name, params string[] labels)
    {
        var series = metrics.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .ToList();
        Assert.True(series.Count == 1, $"{series.Count} series of {name} with {string.Join(',', labels)} in:\n{string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("kiteflow_delivery", StringComparison.Ordinal)))}");
        return double.Parse(SampleValue().Match(series[0]).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [GeneratedRegex(@"\}?\s(\S+)(\s\d+)?$")]
    private static partial Regex SampleValue();
}
