using Kiteflow.Core;
using Kiteflow.Core.Json;

namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// The rejected records: one JSON line per record that was not delivered, holding the original record
/// and the error with its stage (SPEC §4). Records whose delivery is uncertain are written here too,
/// marked <c>possiblyDelivered</c>, so every record not delivered can be found in one place.
/// </summary>
internal sealed class RejectedRecords(JsonLinesOutput output, IRejectedSink? sink = null)
{
    public bool IsEnabled => output.IsEnabled || sink is not null;

    /// <summary>
    /// A record refused before any call (read, template, validate, script). A record that could not be
    /// read has no JSON: its <c>data</c> is the text it had in the input, as a string.
    /// </summary>
    public void Write(Rejection rejection) =>
        Write(rejection.Record, rejection.Line, rejection.RecordJson ?? rejection.OriginalText, rejection.RecordJson is not null, rejection.StageName, rejection.Message, rejection.Status, rejection.Response, possiblyDelivered: false, retryable: false);

    /// <summary>A record of a request that Buildkite refused, that gave up, or whose outcome is unknown.</summary>
    public void Write(long record, long? line, string? recordJson, string stage, string message, int? status, string? response, bool possiblyDelivered, bool retryable) =>
        Write(record, line, recordJson, dataIsJson: true, stage, message, status, response, possiblyDelivered, retryable);

    private void Write(long record, long? line, string? data, bool dataIsJson, string stage, string message, int? status, string? response, bool possiblyDelivered, bool retryable)
    {
        sink?.Write(new RejectedRecord(record, line, data, dataIsJson, stage, message, status, response, possiblyDelivered, retryable));
        WriteLine(record, line, data, dataIsJson, stage, message, status, response, possiblyDelivered, retryable);
    }

    private void WriteLine(long record, long? line, string? data, bool dataIsJson, string stage, string message, int? status, string? response, bool possiblyDelivered, bool retryable) =>
        output.Write((record, line, data, dataIsJson, stage, message, status, response, possiblyDelivered, retryable), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("record", s.record);
            if (s.line is { } l)
            {
                writer.WriteNumber("line", l);
            }
            else
            {
                writer.WriteNull("line");
            }

            OutputJson.WriteBody(writer, "data", s.data, s.dataIsJson);
            writer.WriteStartObject("error");
            writer.WriteString("stage", s.stage);
            writer.WriteString("message", s.message);
            if (s.status is { } status)
            {
                writer.WriteNumber("status", status);
            }

            if (s.response is { } response)
            {
                OutputJson.WriteBody(writer, "response", response, JsonText.IsValid(response));
            }

            if (s.possiblyDelivered)
            {
                writer.WriteBoolean("possiblyDelivered", true);
            }

            if (s.retryable)
            {
                writer.WriteBoolean("retryable", true);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        });
}
