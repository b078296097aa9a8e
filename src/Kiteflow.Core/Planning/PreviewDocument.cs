using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;

namespace Kiteflow.Core.Planning;

/// <summary>
/// A preview: the first requests a plan makes, the records it rejects on the way and the warnings — and the one JSON
/// document <c>kiteflow preview --json</c> prints and the server's preview answers. The token never appears in it:
/// the Authorization header always reads <see cref="PlannedRequest.RedactedAuthorization"/>.
/// </summary>
public sealed class PreviewDocument
{
    /// <summary>How many requests a preview shows unless told otherwise.</summary>
    public const int DefaultLimit = 5;

    private readonly List<PlannedRequest> _requests;

    private PreviewDocument(Destination destination, List<PlannedRequest> requests, PreviewRejections rejections, PreviewStop stop, long recordsRead, IReadOnlyList<string> warnings)
    {
        Destination = destination;
        _requests = requests;
        Rejections = rejections;
        Stop = stop;
        RecordsRead = recordsRead;
        Warnings = warnings;
    }

    /// <summary>The destination previewed.</summary>
    public Destination Destination { get; }

    /// <summary>The requests planned, in order.</summary>
    public IReadOnlyList<PlannedRequest> Requests => _requests;

    /// <summary>The first rejections (at most 100), in input order.</summary>
    public IReadOnlyList<Rejection> Rejected => Rejections.Listed;

    /// <summary>Every rejection met while planning, listed or not.</summary>
    public long RejectedCount => Rejections.Count;

    /// <summary>Records read while planning, bad ones included.</summary>
    public long RecordsRead { get; }

    /// <summary>The destination's warnings, then those the records read gave.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The rejections, grouped by reason as the text preview lists them.</summary>
    internal PreviewRejections Rejections { get; }

    /// <summary>Why planning stopped.</summary>
    internal PreviewStop Stop { get; }

    /// <summary>
    /// Takes requests from <paramref name="plan"/>, and the rejections met on the way, until <paramref name="limit"/>
    /// requests or as many rejections (at least 100): an input whose every record is refused is not read to its end.
    /// A limit of <see cref="long.MaxValue"/> plans the whole input. Disposing the plan stays the caller's job.
    /// </summary>
    /// <param name="destination">The destination <paramref name="plan"/> was made from.</param>
    /// <param name="plan">A plan not enumerated yet.</param>
    /// <param name="limit">How many requests to take; 1 or more.</param>
    /// <exception cref="Records.InputException">The input cannot be read as a whole (the records before the problem were planned).</exception>
    public static PreviewDocument Collect(Destination destination, Plan plan, long limit)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var requests = new List<PlannedRequest>();
        var rejections = new PreviewRejections();
        var stop = Take(plan, limit, requests, rejections);
        return new PreviewDocument(destination, requests, rejections, stop, plan.RecordsRead, plan.Warnings);
    }

    /// <summary>The document as UTF-8 JSON: indented as the CLI prints it, or compact.</summary>
    public byte[] ToUtf8Json(bool indented) => JsonText.Utf8(WriteTo, indented);

    /// <summary>Writes the document: <c>destination</c>, <c>endpoint</c>, <c>scope</c>, <c>requests</c>, <c>rejected</c>, <c>moreRejected</c>, <c>warnings</c>.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("destination", Destination.Settings.Name);
        writer.WriteString("endpoint", Destination.Endpoint?.Id);
        writer.WriteString("scope", Destination.Scope);
        writer.WriteStartArray("requests");
        foreach (var request in _requests)
        {
            writer.WriteStartObject();
            WriteRequestProperties(writer, request);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("rejected");
        foreach (var rejection in Rejections.Listed)
        {
            writer.WriteStartObject();
            writer.WriteNumber("record", rejection.Record);
            if (rejection.Line is { } line)
            {
                writer.WriteNumber("line", line);
            }
            else
            {
                writer.WriteNull("line");
            }

            writer.WriteString("stage", rejection.StageName);
            writer.WriteString("message", rejection.Message);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteNumber("moreRejected", Rejections.Count - Rejections.Listed.Count);
        writer.WriteStartArray("warnings");
        foreach (var warning in Warnings)
        {
            writer.WriteStringValue(warning);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// A request's properties as every output shows them — <c>method</c>, <c>url</c>, <c>headers</c> (the token as
    /// <c>Bearer ••••</c>), <c>body</c> (the JSON value for JSON, the text otherwise, null for none), <c>records</c>,
    /// <c>deliveryId</c> when there is one — inside an object the caller opened. The endpoint test writes its request so too.
    /// </summary>
    internal static void WriteRequestProperties(Utf8JsonWriter writer, PlannedRequest request)
    {
        writer.WriteString("method", request.Method);
        writer.WriteString("url", request.Url);
        writer.WriteStartObject("headers");
        foreach (var group in request.DisplayHeaders().GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            writer.WriteString(group.First().Key, string.Join(", ", group.Select(h => h.Value)));
        }

        writer.WriteEndObject();
        writer.WritePropertyName("body");
        if (request.Body is null)
        {
            writer.WriteNullValue();
        }
        else if (request.BodyIsJson)
        {
            writer.WriteRawValue(request.Body, skipInputValidation: true);
        }
        else
        {
            writer.WriteStringValue(Encoding.UTF8.GetString(request.Body));
        }

        writer.WriteStartArray("records");
        foreach (var position in request.Records)
        {
            writer.WriteNumberValue(position);
        }

        writer.WriteEndArray();
        if (request.DeliveryId is { } deliveryId)
        {
            writer.WriteString("deliveryId", deliveryId);
        }
    }

    private static PreviewStop Take(Plan plan, long limit, List<PlannedRequest> requests, PreviewRejections rejections)
    {
        var maxRejections = Math.Max(limit, PreviewRejections.ListLimit);
        foreach (var item in plan)
        {
            if (item.Request is { } request)
            {
                requests.Add(request);
                if (requests.Count >= limit)
                {
                    return PreviewStop.Requests;
                }
            }
            else
            {
                rejections.Add(item.Rejection!);
                if (rejections.Count >= maxRejections)
                {
                    return PreviewStop.Rejections;
                }
            }
        }

        return PreviewStop.InputEnded;
    }
}
