namespace Kiteflow.Core.Planning;

/// <summary>One request the planner computed: exactly what will be sent, and which records it carries.</summary>
public sealed class PlannedRequest
{
    /// <summary>How the Authorization header shows in every preview and output: the token never does.</summary>
    public const string RedactedAuthorization = "Bearer ••••";

    internal PlannedRequest(long index, string method, string url, IReadOnlyList<KeyValuePair<string, string>> headers, string? contentType, byte[]? body, bool bodyIsJson, long[] records, string? deliveryId, IReadOnlyList<string>? recordTexts, long[]? lines = null)
    {
        Index = index;
        Method = method;
        Url = url;
        Headers = headers;
        ContentType = contentType;
        Body = body;
        BodyIsJson = bodyIsJson;
        Records = records;
        DeliveryId = deliveryId;
        RecordTexts = recordTexts;
        Lines = lines;
    }

    /// <summary>The request's 0-based number within the plan.</summary>
    public long Index { get; }

    /// <summary>The HTTP method.</summary>
    public string Method { get; }

    /// <summary>The final URL, every macro resolved and encoded.</summary>
    public string Url { get; }

    /// <summary>The destination's extra headers, resolved. Authorization and Content-Type are added when sending.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The Content-Type of the body; null when there is no body.</summary>
    public string? ContentType { get; }

    /// <summary>The body exactly as it goes out; null when the request has none.</summary>
    public byte[]? Body { get; }

    /// <summary>Whether <see cref="Body"/> is JSON (the json format, unless a script returned text).</summary>
    public bool BodyIsJson { get; }

    /// <summary>The 0-based input positions of the records this request carries, in dataset order.</summary>
    public long[] Records { get; }

    /// <summary>The create-build delivery id written into the body's <c>meta_data</c>, when there is one.</summary>
    public string? DeliveryId { get; }

    /// <summary>The original records' JSON text, when <see cref="PlannerOptions.KeepRecordText"/> is on.</summary>
    public IReadOnlyList<string>? RecordTexts { get; }

    /// <summary>The input line each record starts on, when <see cref="PlannerOptions.KeepRecordText"/> is on.</summary>
    public long[]? Lines { get; }

    /// <summary>The headers as they will be sent, in order, the token shown as <see cref="RedactedAuthorization"/>.</summary>
    public IEnumerable<KeyValuePair<string, string>> DisplayHeaders()
    {
        yield return new("Authorization", RedactedAuthorization);
        if (ContentType is { } contentType)
        {
            yield return new("Content-Type", contentType);
        }

        foreach (var header in Headers)
        {
            yield return header;
        }
    }
}
