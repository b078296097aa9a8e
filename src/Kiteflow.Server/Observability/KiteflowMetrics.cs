using System.Diagnostics.Metrics;

namespace Kiteflow.Server.Observability;

/// <summary>
/// The server's instruments, on the one <see cref="Meter"/> named <c>Kiteflow</c> (exported at <c>/metrics</c>).
/// Tags carry dataset names and outcomes only, never a key or token.
/// </summary>
internal sealed class KiteflowMetrics
{
    public const string MeterName = "Kiteflow";

    private readonly Counter<long> _ingestRequests;
    private readonly Counter<long> _ingestRecords;
    private readonly Counter<long> _ingestRejected;
    private readonly Histogram<double> _ingestDuration;
    private readonly Counter<long> _uploadRecords;
    private readonly Counter<long> _loginFailures;

    public KiteflowMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _ingestRequests = Meter.CreateCounter<long>("kiteflow.ingest.requests", "{request}", "Ingest requests, by outcome (appended, replayed, refused, invalid).");
        _ingestRecords = Meter.CreateCounter<long>("kiteflow.ingest.records", "{record}", "Records appended through HTTP ingest.");
        _ingestRejected = Meter.CreateCounter<long>("kiteflow.ingest.rejected", "{record}", "Ingested items that could not be read as records.");
        _ingestDuration = Meter.CreateHistogram<double>("kiteflow.ingest.duration", "s", "Time to read, append durably and answer an ingest request.");
        _uploadRecords = Meter.CreateCounter<long>("kiteflow.upload.records", "{record}", "Records appended by uploads.");
        _loginFailures = Meter.CreateCounter<long>("kiteflow.login.failures", "{attempt}", "Failed or throttled logins.");
    }

    /// <summary>The meter the lead's delivery instruments join.</summary>
    public Meter Meter { get; }

    public void Ingested(string dataset, string outcome, int records, int rejected, TimeSpan elapsed)
    {
        var datasetTag = new KeyValuePair<string, object?>("dataset", dataset);
        _ingestRequests.Add(1, datasetTag, new KeyValuePair<string, object?>("outcome", outcome));
        if (records > 0)
        {
            _ingestRecords.Add(records, datasetTag);
        }

        if (rejected > 0)
        {
            _ingestRejected.Add(rejected, datasetTag);
        }

        _ingestDuration.Record(elapsed.TotalSeconds, datasetTag);
    }

    public void Uploaded(string dataset, long records) => _uploadRecords.Add(records, new KeyValuePair<string, object?>("dataset", dataset));

    public void LoginFailed(string reason) => _loginFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
