namespace Kiteflow.Storage;

/// <summary>Where a dataset's records come from (informational; upload and ingest both work on user datasets).</summary>
public enum DatasetSource
{
    /// <summary>Files uploaded through the API (and HTTP ingest, which works on every user dataset).</summary>
    Upload,

    /// <summary>HTTP ingest at <c>/ingest/{name}</c> (uploads work too).</summary>
    Ingest,

    /// <summary>The responses of a destination (written by delivery).</summary>
    Response,
}
