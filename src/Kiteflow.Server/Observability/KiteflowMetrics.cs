using System.Collections.Concurrent;
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
    private readonly Counter<long> _deliveryRecords;
    private readonly Counter<long> _deliveryRequests;
    private readonly Counter<long> _rateLimitWaits;
    private readonly Histogram<double> _callDuration;

    public KiteflowMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _ingestRequests = Meter.CreateCounter<long>("kiteflow.ingest.requests", "{request}", "Ingest requests, by outcome (appended, replayed, refused, invalid).");
        _ingestRecords = Meter.CreateCounter<long>("kiteflow.ingest.records", "{record}", "Records appended through HTTP ingest.");
        _ingestRejected = Meter.CreateCounter<long>("kiteflow.ingest.rejected", "{record}", "Ingested items that could not be read as records.");
        _ingestDuration = Meter.CreateHistogram<double>("kiteflow.ingest.duration", "s", "Time to read, append durably and answer an ingest request.");
        _uploadRecords = Meter.CreateCounter<long>("kiteflow.upload.records", "{record}", "Records appended by uploads.");
        _loginFailures = Meter.CreateCounter<long>("kiteflow.login.failures", "{attempt}", "Failed or throttled logins.");
        _deliveryRecords = Meter.CreateCounter<long>("kiteflow.delivery.records", "{record}", "Records settled by delivery, by destination and outcome (delivered, rejected, possibly_delivered).");
        _deliveryRequests = Meter.CreateCounter<long>("kiteflow.delivery.requests", "{request}", "Calls to Buildkite, by destination, kind (attempt, lookup) and status class.");
        _rateLimitWaits = Meter.CreateCounter<long>("kiteflow.delivery.rate_limit_waits", "{wait}", "Requests that waited for a rate limit (or were answered 429), by destination.");
        _callDuration = Meter.CreateHistogram<double>("kiteflow.delivery.call.duration", "s", "Time from sending a call to Buildkite to the end of its answer, by destination and kind.");
        Meter.CreateObservableGauge("kiteflow.delivery.lag", () => Lags.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("destination", l.Key))), "{record}", "Records appended to an active destination's dataset and not yet settled.");
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

    /// <summary>Each active destination's lag (records appended, not settled), by name; its worker keeps it current.</summary>
    public ConcurrentDictionary<string, long> Lags { get; } = new(StringComparer.Ordinal);

    public void Call(string destination, string kind, int? status, TimeSpan duration)
    {
        var destinationTag = new KeyValuePair<string, object?>("destination", destination);
        var kindTag = new KeyValuePair<string, object?>("kind", kind);
        _deliveryRequests.Add(1, destinationTag, kindTag, new KeyValuePair<string, object?>("status", status is { } s ? $"{s / 100}xx" : "none"));
        _callDuration.Record(duration.TotalSeconds, destinationTag, kindTag);
    }

    public void Delivered(string destination, long delivered, long rejected, long possiblyDelivered, long rateLimitWaits)
    {
        var destinationTag = new KeyValuePair<string, object?>("destination", destination);
        Add(_deliveryRecords, delivered, destinationTag, "delivered");
        Add(_deliveryRecords, rejected, destinationTag, "rejected");
        Add(_deliveryRecords, possiblyDelivered, destinationTag, "possibly_delivered");
        if (rateLimitWaits > 0)
        {
            _rateLimitWaits.Add(rateLimitWaits, destinationTag);
        }

        static void Add(Counter<long> counter, long value, KeyValuePair<string, object?> destinationTag, string outcome)
        {
            if (value > 0)
            {
                counter.Add(value, destinationTag, new KeyValuePair<string, object?>("outcome", outcome));
            }
        }
    }

    public void Uploaded(string dataset, long records) => _uploadRecords.Add(records, new KeyValuePair<string, object?>("dataset", dataset));

    public void LoginFailed(string reason) => _loginFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
