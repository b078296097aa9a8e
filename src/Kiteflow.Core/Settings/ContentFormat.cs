namespace Kiteflow.Core.Settings;

/// <summary>How a record or batch is written as a request body.</summary>
public enum ContentFormat
{
    /// <summary><c>application/json</c>: the record (or batch) as JSON. The only format Buildkite accepts.</summary>
    Json,

    /// <summary><c>application/x-ndjson</c>: one record per line.</summary>
    Ndjson,

    /// <summary><c>application/xml</c>.</summary>
    Xml,

    /// <summary><c>application/x-www-form-urlencoded</c>, nested objects in Rails bracket form.</summary>
    Form,

    /// <summary><c>text/csv</c>, with a header row of dotted attribute paths.</summary>
    Csv,
}
