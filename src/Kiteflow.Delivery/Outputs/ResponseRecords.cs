using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Delivery.Sending;

namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// The response records (SPEC §2.7): one JSON line per API call made for a planned request — each attempt
/// (<c>kind: attempt</c>) and each create-build lookup by delivery id (<c>kind: lookup</c>) — with the request
/// as sent (Authorization redacted), the response, the records it carried, the attempt, the duration and when
/// it was sent; and, for a request whose outcome an attempt left unknown, one line more (<c>kind: outcome</c>)
/// saying how it was settled. The summary's request count is the number of attempt and lookup lines.
/// </summary>
/// <param name="output">The response records file, or <see cref="JsonLinesOutput.None"/>.</param>
/// <param name="destination">The destination's name, written into each record.</param>
/// <param name="forwarder">Where each record is also POSTed (<c>responseWebhook.forwardUrl</c>), if anywhere.</param>
/// <param name="sinks">Where else each record goes (the server's response dataset).</param>
internal sealed class ResponseRecords(JsonLinesOutput output, string destination, ResponseForwarder? forwarder = null, IReadOnlyList<IResponseSink>? sinks = null)
{
    public bool IsEnabled => output.IsEnabled || forwarder is not null || sinks is { Count: > 0 };

    /// <summary>One attempt of <paramref name="request"/>.</summary>
    public ValueTask WriteAsync(PlannedRequest request, AttemptOutcome outcome, CancellationToken cancellationToken) =>
        IsEnabled ? WriteAsync("attempt", writer => WriteCall(writer, "attempt", request, request.Method, request.Url, withBody: true, outcome, AttemptOutcomeName(outcome.Kind)), cancellationToken) : ValueTask.CompletedTask;

    /// <summary>One lookup (<c>GET <paramref name="url"/></c>) of <paramref name="request"/>'s build by its delivery id.</summary>
    public ValueTask WriteLookupAsync(PlannedRequest request, string url, AttemptOutcome outcome, CancellationToken cancellationToken) =>
        IsEnabled ? WriteAsync("lookup", writer => WriteCall(writer, "lookup", request, "GET", url, withBody: false, outcome, LookupOutcomeName(outcome)), cancellationToken) : ValueTask.CompletedTask;

    /// <summary>How <paramref name="request"/> was settled after an attempt whose outcome was unknown.</summary>
    public ValueTask WriteSettledAsync(PlannedRequest request, BatchOutcome outcome, int attempts, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            return ValueTask.CompletedTask;
        }

        return WriteAsync("outcome", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("kind", "outcome");
            writer.WriteString("destination", destination);
            writer.WriteStartObject("request");
            writer.WriteString("method", request.Method);
            writer.WriteString("url", request.Url);
            if (request.DeliveryId is { } id)
            {
                writer.WriteString("deliveryId", id);
            }

            writer.WriteEndObject();
            if (outcome.Last is { Kind: AttemptKind.FoundByLookup, Status: { } status } found)
            {
                // The build the lookup found, as a create-build's answer would have shown it.
                writer.WriteStartObject("response");
                writer.WriteNumber("status", status);
                writer.WriteStartObject("headers");
                writer.WriteEndObject();
                OutputJson.WriteBody(writer, "body", found.Body, found.BodyIsJson);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull("response");
            }

            if (outcome.Message is { } message)
            {
                writer.WriteString("error", message);
            }

            writer.WriteString("outcome", SettledName(outcome));
            WriteRecords(writer, request);
            writer.WriteNumber("attempt", attempts);
            writer.WriteNumber("durationMs", 0);
            writer.WriteString("sentAt", at);
            writer.WriteEndObject();
        }, cancellationToken);
    }

    private async ValueTask WriteAsync(string kind, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
        {
            write(writer);
        }

        output.WriteLine(buffer.WrittenSpan);
        if (forwarder is not null)
        {
            await forwarder.EnqueueAsync(buffer.WrittenSpan.ToArray(), cancellationToken).ConfigureAwait(false);
        }

        if (sinks is { Count: > 0 })
        {
            var record = new ResponseRecord(kind, buffer.WrittenMemory.ToArray());
            foreach (var sink in sinks)
            {
                await sink.WriteAsync(record, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void WriteCall(Utf8JsonWriter writer, string kind, PlannedRequest request, string method, string url, bool withBody, AttemptOutcome outcome, string outcomeName)
    {
        writer.WriteStartObject();
        writer.WriteString("kind", kind);
        writer.WriteString("destination", destination);
        writer.WriteStartObject("request");
        writer.WriteString("method", method);
        writer.WriteString("url", url);
        writer.WriteStartObject("headers");
        foreach (var (name, value) in withBody ? request.DisplayHeaders() : LookupHeaders)
        {
            writer.WriteString(name, value);
        }

        writer.WriteEndObject();
        if (withBody)
        {
            OutputJson.WriteBody(writer, "body", request.Body, request.BodyIsJson);
        }
        else
        {
            writer.WriteNull("body");
        }

        writer.WriteEndObject();
        if (outcome.Status is { } status)
        {
            writer.WriteStartObject("response");
            writer.WriteNumber("status", status);
            writer.WriteStartObject("headers");
            foreach (var (name, value) in outcome.Headers)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
            OutputJson.WriteBody(writer, "body", outcome.Body, outcome.BodyIsJson);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("response");
        }

        if (outcome.Error is { } error)
        {
            writer.WriteString("error", error);
        }

        writer.WriteString("outcome", outcomeName);
        WriteRecords(writer, request);
        writer.WriteNumber("attempt", outcome.Attempt);
        writer.WriteNumber("durationMs", Math.Round(outcome.Duration.TotalMilliseconds, 1));
        writer.WriteString("sentAt", outcome.SentAt);
        writer.WriteEndObject();
    }

    /// <summary>What a lookup carries besides the token (shown redacted, as on every request).</summary>
    private static readonly KeyValuePair<string, string>[] LookupHeaders = [new("Authorization", "Bearer ••••"), new("Accept", "application/json")];

    private static void WriteRecords(Utf8JsonWriter writer, PlannedRequest request)
    {
        writer.WriteStartArray("records");
        foreach (var position in request.Records)
        {
            writer.WriteNumberValue(position);
        }

        writer.WriteEndArray();
    }

    private static string AttemptOutcomeName(AttemptKind kind) => kind switch
    {
        AttemptKind.Success => "delivered",
        AttemptKind.FoundByLookup => "delivered (found by lookup)",
        AttemptKind.RateLimited => "rate limited",
        AttemptKind.Refused => "refused",
        AttemptKind.ServerError => "server error",
        AttemptKind.NotSent => "not sent",
        _ => "unknown",
    };

    private static string LookupOutcomeName(AttemptOutcome outcome)
    {
        if (outcome is { Kind: AttemptKind.Success, BodyIsJson: true, Body: { } body })
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Array && document.RootElement.GetArrayLength() > 0 ? "found" : "not found";
        }

        return AttemptOutcomeName(outcome.Kind);
    }

    private static string SettledName(BatchOutcome outcome) => outcome switch
    {
        { Stopped: true, State: BatchState.InFlight } => "in flight (stopped; the next run settles it)",
        { Stopped: true } => "pending (stopped; not processed)",
        { State: BatchState.Delivered, Last.Kind: AttemptKind.FoundByLookup } => "delivered (found by lookup)",
        { State: BatchState.Delivered } => "delivered",
        { State: BatchState.Rejected } => "rejected",
        { State: BatchState.PossiblyDelivered } => "possibly delivered",
        { Retryable: true } => "pending (retryable)",
        _ => "pending",
    };
}
