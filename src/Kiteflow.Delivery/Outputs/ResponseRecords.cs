using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Delivery.Sending;

namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// The response records (SPEC §2.7): one JSON line per API call made for a planned request, with the
/// request as sent (Authorization redacted), the response, the records it carried, the attempt, the
/// duration and when it was sent.
/// </summary>
/// <param name="output">The response records file, or <see cref="JsonLinesOutput.None"/>.</param>
/// <param name="destination">The destination's name, written into each record.</param>
/// <param name="forwarder">Where each record is also POSTed (<c>responseWebhook.forwardUrl</c>), if anywhere.</param>
internal sealed class ResponseRecords(JsonLinesOutput output, string destination, ResponseForwarder? forwarder = null)
{
    public bool IsEnabled => output.IsEnabled || forwarder is not null;

    public async ValueTask WriteAsync(PlannedRequest request, AttemptOutcome outcome, CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
        {
            WriteRecord(writer, request, outcome, destination);
        }

        output.WriteLine(buffer.WrittenSpan);
        if (forwarder is not null)
        {
            await forwarder.EnqueueAsync(buffer.WrittenSpan.ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }

    private static void WriteRecord(Utf8JsonWriter writer, PlannedRequest request, AttemptOutcome outcome, string destination)
    {
        writer.WriteStartObject();
        writer.WriteString("destination", destination);
        writer.WriteStartObject("request");
        writer.WriteString("method", request.Method);
        writer.WriteString("url", request.Url);
        writer.WriteStartObject("headers");
        foreach (var (name, value) in request.DisplayHeaders())
        {
            writer.WriteString(name, value);
        }

        writer.WriteEndObject();
        OutputJson.WriteBody(writer, "body", request.Body, request.BodyIsJson);
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

        writer.WriteString("outcome", outcome.Kind switch
        {
            AttemptKind.Success => "delivered",
            AttemptKind.FoundByLookup => "delivered (found by lookup)",
            AttemptKind.RateLimited => "rate limited",
            AttemptKind.Refused => "refused",
            AttemptKind.ServerError => "server error",
            AttemptKind.NotSent => "not sent",
            _ => "unknown",
        });
        writer.WriteStartArray("records");
        foreach (var position in request.Records)
        {
            writer.WriteNumberValue(position);
        }

        writer.WriteEndArray();
        writer.WriteNumber("attempt", outcome.Attempt);
        writer.WriteNumber("durationMs", Math.Round(outcome.Duration.TotalMilliseconds, 1));
        writer.WriteString("sentAt", outcome.SentAt);
        writer.WriteEndObject();
    }
}
