namespace Kiteflow.Server;

/// <summary>What a server process does in its cluster (<c>kiteflow serve --role</c>).</summary>
public enum ServerRole
{
    /// <summary>Everything: the REST API, UI and ingest, and the grains that deliver (the default; the only role on SQLite).</summary>
    All,

    /// <summary>The REST API, UI and ingest; destination and budget grains never activate on it.</summary>
    Api,

    /// <summary>Destination and budget grains only; over HTTP just <c>/healthz</c> and <c>/metrics</c>.</summary>
    Worker,
}
