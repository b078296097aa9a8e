using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Delivery.Outputs;

namespace Kiteflow.Delivery.Sending;

/// <summary>
/// What an endpoint test call came to: the request as sent (the token never shown) and the API's real answer —
/// status, the response headers delivery keeps (RateLimit-*, Location, Content-Type), body and duration. Anything in
/// the answer that repeats the token is redacted.
/// </summary>
public sealed class TestCallResult
{
    internal TestCallResult(TestCallRequest request, string credential, TestCallOutcome outcome, DateTimeOffset sentAt, TimeSpan duration, TimeSpan waited)
    {
        Request = request;
        Credential = credential;
        Outcome = outcome;
        SentAt = sentAt;
        Duration = duration;
        Waited = waited;
    }

    /// <summary>The request that was sent.</summary>
    public TestCallRequest Request { get; }

    /// <summary>The name of the credential it was sent with.</summary>
    public string Credential { get; }

    /// <summary>Whether an answer came.</summary>
    public TestCallOutcome Outcome { get; }

    /// <summary>The HTTP status, when an answer came.</summary>
    public int? Status { get; init; }

    /// <summary>Whether the API accepted the request (2xx).</summary>
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>The response headers kept: RateLimit-*, Location, Content-Type.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders { get; init; } = [];

    /// <summary>The response body as text, when there was one.</summary>
    public string? ResponseBody { get; init; }

    /// <summary>Whether <see cref="ResponseBody"/> is JSON.</summary>
    public bool ResponseBodyIsJson { get; init; }

    /// <summary>What went wrong, in words a user can act on: the API's message for a refusal, or why no answer came. Null for a 2xx.</summary>
    public string? Message { get; init; }

    /// <summary>When the request was sent.</summary>
    public DateTimeOffset SentAt { get; }

    /// <summary>How long the request took, from sending to the whole answer.</summary>
    public TimeSpan Duration { get; }

    /// <summary>How long it waited for the rate limits before it was sent.</summary>
    public TimeSpan Waited { get; }

    /// <summary>The result as UTF-8 JSON (see <see cref="WriteTo"/>).</summary>
    public byte[] ToUtf8Json(bool indented) => JsonText.Utf8(WriteTo, indented);

    /// <summary>
    /// Writes <c>{destination, credential, outcome: answered|not-sent|no-answer, request, response: {status, headers,
    /// body} | null, message, durationMs, waitedMs, sentAt}</c> — the one shape of <c>kiteflow test --json</c> and the server's test.
    /// </summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("destination", Request.Destination.Settings.Name);
        writer.WriteString("credential", Credential);
        writer.WriteString("outcome", OutcomeName(Outcome));
        writer.WritePropertyName("request");
        Request.WriteTo(writer);
        writer.WritePropertyName("response");
        if (Status is { } status)
        {
            writer.WriteStartObject();
            writer.WriteNumber("status", status);
            writer.WriteStartObject("headers");
            foreach (var (name, value) in ResponseHeaders)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
            OutputJson.WriteBody(writer, "body", ResponseBody, ResponseBodyIsJson);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteString("message", Message);
        writer.WriteNumber("durationMs", (long)Duration.TotalMilliseconds);
        writer.WriteNumber("waitedMs", (long)Waited.TotalMilliseconds);
        writer.WriteString("sentAt", SentAt);
        writer.WriteEndObject();
    }

    /// <summary>How outputs name an outcome: <c>answered</c>, <c>not-sent</c>, <c>no-answer</c>.</summary>
    public static string OutcomeName(TestCallOutcome outcome) => outcome switch
    {
        TestCallOutcome.Answered => "answered",
        TestCallOutcome.NotSent => "not-sent",
        _ => "no-answer",
    };
}
