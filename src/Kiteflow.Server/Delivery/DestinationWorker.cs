using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;
using Kiteflow.Delivery;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// Keeps one active destination delivering (SPEC §4, issue 9): it claims the next stretch of its dataset durably,
/// plans and delivers it with the same engine as <c>kiteflow send</c> (the ledger run <c>d{id}</c>, batches named by
/// dataset offsets, create-builds carrying their delivery ids), finishes it, and waits for records appended later.
/// A stretch left unfinished by a pause, a crash or a restart is delivered again first, the same records with the
/// same settings, so the ledger settles every batch exactly once. It runs on the thread pool, not on a thread of its
/// own: while it waits for records it holds nothing but a task.
/// </summary>
internal sealed class DestinationWorker : IAsyncDisposable
{
    private const int MaxStretchRecords = 5_000;
    private const int ReadPage = 1_000;
    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromSeconds(5);

    private readonly long _destinationId;
    private readonly DeliveryServices _services;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly RateMeter _rate;
    private readonly Lock _stopLock = new();
    private CancellationTokenSource _wake = new();
    private Task? _loop;
    private Task? _stop;
    private string? _name;
    private volatile DeliveryRunner? _runner;
    private DestinationLease? _lease;
    private HttpClient? _client;
    private volatile string _state = "starting";
    private string? _lastError;

    public DestinationWorker(long destinationId, DeliveryServices services)
    {
        _destinationId = destinationId;
        _services = services;
        _logger = services.Loggers.CreateLogger("Kiteflow.Server.Delivery");
        _rate = new RateMeter(services.Time);
    }

    /// <summary>The destination this worker delivers.</summary>
    public long DestinationId => _destinationId;

    /// <summary>What the worker is doing: starting, delivering, waiting, retrying, stopping, stopped, failed.</summary>
    public string State => _state;

    /// <summary>The last error that held the worker up, in one line (no token).</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>Records settled per second over the last minute.</summary>
    public double RecordsPerSecond => _rate.PerSecond;

    /// <summary>Whether another writer acquired the destination while this worker held it (this worker then stops for good).</summary>
    public bool Fenced => _lease?.IsLost == true;

    /// <summary>Whether the loop has ended.</summary>
    public bool Stopped => _loop?.IsCompleted ?? false;

    /// <summary>What the stretch being delivered has done so far (records settled count toward the rate).</summary>
    public DeliveryProgress? Current => _runner?.Progress;

    /// <summary>Starts the loop; <paramref name="startCursor"/>, on a first activation, where in the dataset it begins.</summary>
    public void Start(string reason, long? startCursor)
    {
        _services.Track(this);
        _loop ??= Task.Run(() => RunAsync(reason, startCursor));
    }

    /// <summary>Ends the worker's wait for records, so it looks for work at once (a retry was asked for, say).</summary>
    public void Wake()
    {
        // Not disposed: a wait may be linking to it at this moment; a cancelled source holds no timer.
        Interlocked.Exchange(ref _wake, new CancellationTokenSource()).Cancel();
    }

    /// <summary>
    /// Stops claiming stretches and lets the calls in flight be answered (up to the grace period), then returns; the
    /// unfinished stretch stays claimed for the next start. A second call waits for the first stop.
    /// </summary>
    public Task StopAsync(string reason)
    {
        lock (_stopLock)
        {
            return _stop ??= StopOnceAsync(reason);
        }
    }

    private async Task StopOnceAsync(string reason)
    {
        _state = "stopping";
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            if (await Task.WhenAny(loop, Task.Delay(_services.StopGracePeriod + TimeSpan.FromSeconds(5), _services.Time)).ConfigureAwait(false) != loop)
            {
                await _abort.CancelAsync().ConfigureAwait(false);
            }

            // A loop that failed has said why (it logs what holds it up); the stop goes on regardless.
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_lease is { } lease)
        {
            try
            {
                await _services.Store.Delivery.EndRunAsync(_destinationId, reason, _services.Time.GetUtcNow(), lease.Fence, CancellationToken.None).ConfigureAwait(false);
            }
            catch (StoreConflictException e) when (e.Conflict == StoreConflict.Fenced)
            {
                // The run is the new writer's to end.
                lease.Lose(e.Message);
            }
            catch (StoreException e)
            {
                // The store is unreachable: the run stays open, and the next start of the destination ends it.
                Log.DestinationHeldUp(_logger, _destinationId, e.Message);
            }

            await lease.DisposeAsync().ConfigureAwait(false);
        }

        _client?.Dispose();
        if (_name is { } name)
        {
            _services.Metrics.Lags.TryRemove(name, out _);
        }

        _state = _lease?.IsLost == true ? "fenced" : "stopped";
        _services.Untrack(this);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync("shutdown").ConfigureAwait(false);

        _stopping.Dispose();
        _abort.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync(string reason, long? startCursor)
    {
        var stop = _stopping.Token;
        var started = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var context = await OpenAsync(stop).ConfigureAwait(false);
                if (_lease is null)
                {
                    // One writer per destination: from here on every write carries this fence, and requests leave only
                    // while the lease holds. Losing it stops the worker at once.
                    _lease = await DestinationLease.AcquireAsync(_destinationId, _services.Store.Delivery, _services.Lease, _services.Time, _logger, stop).ConfigureAwait(false);
                    _lease.Lost.Register(OnLeaseLost);
                    _client = _services.CreateClient(_lease);
                }

                if (!started)
                {
                    await _services.Store.Delivery.StartRunAsync(_destinationId, startCursor, reason, _services.Time.GetUtcNow(), _lease.Fence, stop).ConfigureAwait(false);
                    started = true;
                    _name = context.Row.Name;
                    Log.DestinationDelivering(_logger, context.Row.Name, reason);
                }

                await DeliverAsync(context, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (StoreConflictException e) when (e.Conflict == StoreConflict.Fenced)
            {
                // Another writer holds the destination: this one stops without writing anything more.
                _lease?.Lose(e.Message);
                break;
            }
            catch (Exception e) when (e is StoreException or CredentialException or DeliveryStoppedException or InputException or HttpRequestException or InvalidOperationException or OrleansException or TimeoutException)
            {
                // The destination stays active: it says what holds it up and tries again shortly (a token check that
                // failed, the store busy, the dataset deleted, a budget grain whose silo just died…).
                _state = "failed";
                var message = ErrorMessage(e);
                Volatile.Write(ref _lastError, message);
                Log.DestinationHeldUp(_logger, _destinationId, message);
                try
                {
                    await _services.Store.Delivery.FinishAsync(_destinationId, DeliveryCounts.Zero with { LastError = message }, null, _services.Time.GetUtcNow(), _lease?.Fence, CancellationToken.None).ConfigureAwait(false);
                }
                catch (StoreConflictException fenced) when (fenced.Conflict == StoreConflict.Fenced)
                {
                    _lease?.Lose(fenced.Message);
                    break;
                }
                catch (StoreException)
                {
                    // The store is what holds it up: the error is logged, and the next pass tries again.
                }

                try
                {
                    await Task.Delay(ErrorBackoff, _services.Time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Everything one pass needs: the destination as stored, its dataset, its credential, checked.</summary>
    private async Task<WorkerContext> OpenAsync(CancellationToken cancellationToken)
    {
        var store = _services.Store;
        var row = await store.Destinations.GetByIdAsync(_destinationId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"destination {_destinationId} no longer exists.");
        var dataset = await store.Datasets.GetByIdAsync(row.DatasetId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the dataset of destination '{row.Name}' no longer exists.");
        var credentialRow = await store.Credentials.GetByIdAsync(row.CredentialId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the credential of destination '{row.Name}' no longer exists.");
        var credential = _services.Credentials.Open(credentialRow);
        var user = await _services.TokenUserAsync(credential, cancellationToken).ConfigureAwait(false);
        return new WorkerContext(row, dataset, credential, user);
    }

    private async Task DeliverAsync(WorkerContext context, CancellationToken stop)
    {
        var store = _services.Store.Delivery;
        DateTimeOffset? firstWaiting = null;
        while (!stop.IsCancellationRequested)
        {
            var progress = await store.GetProgressAsync(_destinationId, stop).ConfigureAwait(false);
            if (progress.RetryGeneration > 0)
            {
                _state = "retrying";
                await RetryAsync(context, progress.RetryGeneration, stop).ConfigureAwait(false);
                continue;
            }

            if (progress.ClaimFrom is { } claimedFrom && progress.ClaimTo is { } claimedTo)
            {
                // A stretch left unfinished (a pause, a crash): the same records, with the settings it was claimed with.
                _state = "delivering";
                await DeliverStretchAsync(context, claimedFrom, claimedTo, progress.ClaimSettings ?? context.Row.SettingsJson, stop).ConfigureAwait(false);
                continue;
            }

            var dataset = await _services.Store.Datasets.GetByIdAsync(context.Dataset.Id, stop).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"the dataset of destination '{context.Row.Name}' no longer exists.");
            var cursor = progress.Cursor;
            _services.Metrics.Lags[context.Row.Name] = dataset.RecordCount - cursor;
            if (dataset.RecordCount <= cursor)
            {
                _state = "waiting";
                firstWaiting = null;

                // Records appended in this process signal; those another process appended (in a cluster) are seen by
                // looking in the store every so often.
                using var poll = _services.AppendPollInterval is { } interval ? new CancellationTokenSource(interval, _services.Time) : new CancellationTokenSource();
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop, Volatile.Read(ref _wake).Token, poll.Token);
                try
                {
                    await _services.Signal.WaitForMoreThanAsync(dataset.Id, cursor, wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // Woken, or time to look: look for work again.
                }

                continue;
            }

            // A batch that is not full waits up to lingerMs after its first record arrived for more to join it.
            var settings = Settings(context.Row.SettingsJson, context.Row.Name);
            var pending = dataset.RecordCount - cursor;
            if (settings.Batching.Enabled && pending < settings.Batching.BatchSize)
            {
                var now = _services.Time.GetUtcNow();
                firstWaiting ??= now;
                var left = firstWaiting.Value + TimeSpan.FromMilliseconds(settings.Batching.LingerMs) - now;
                if (left > TimeSpan.Zero)
                {
                    _state = "waiting";
                    using var linger = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    linger.CancelAfter(left);
                    try
                    {
                        await _services.Signal.WaitForMoreThanAsync(dataset.Id, dataset.RecordCount, linger.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                    {
                        // Lingered long enough: the partial batch goes now.
                    }

                    continue;
                }
            }

            firstWaiting = null;
            var to = Math.Min(dataset.RecordCount, cursor + StretchSize(settings));
            await store.ClaimAsync(_destinationId, cursor, to, context.Row.SettingsJson, _services.Time.GetUtcNow(), _lease!.Fence, stop).ConfigureAwait(false);
            _state = "delivering";
            await DeliverStretchAsync(context, cursor, to, context.Row.SettingsJson, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Delivers the claimed records [from, to) and, when every one of them is settled, finishes the stretch.</summary>
    private async Task DeliverStretchAsync(WorkerContext context, long from, long to, string settingsJson, CancellationToken stop)
    {
        var records = new List<DatasetItem>((int)Math.Min(to - from, MaxStretchRecords));
        for (var offset = from; offset < to;)
        {
            var page = await _services.Store.Datasets.ReadAsync(context.Dataset.Id, offset, (int)Math.Min(ReadPage, to - offset), stop).ConfigureAwait(false);
            if (page.Count == 0)
            {
                break;
            }

            records.AddRange(page.Select(r => new DatasetItem(r.Offset, r.Json)));
            offset = page[^1].Offset + 1;
        }

        var summary = await RunAsync(context, settingsJson, records, RunKey(_destinationId, 0), DeliveryIdPrefix(context.Row, 0), stop).ConfigureAwait(false);
        var finished = summary.Status == DeliveryRunStatus.Completed;
        await _services.Store.Delivery.FinishAsync(_destinationId, Counts(summary), finished ? to : null, _services.Time.GetUtcNow(), _lease!.Fence, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Sends again the records a retry marked, under a run and delivery ids of their own.</summary>
    private async Task RetryAsync(WorkerContext context, int generation, CancellationToken stop)
    {
        var offsets = await _services.Store.Delivery.RetryingAsync(_destinationId, generation, stop).ConfigureAwait(false);
        var records = new List<DatasetItem>(offsets.Count);
        foreach (var offset in offsets)
        {
            var page = await _services.Store.Datasets.ReadAsync(context.Dataset.Id, offset, 1, stop).ConfigureAwait(false);
            records.AddRange(page.Select(r => new DatasetItem(r.Offset, r.Json)));
        }

        var summary = await RunAsync(context, context.Row.SettingsJson, records, RunKey(_destinationId, generation), DeliveryIdPrefix(context.Row, generation), stop).ConfigureAwait(false);
        if (summary.Status == DeliveryRunStatus.Completed)
        {
            // Its counts and its end in one transaction: a retry run again after a crash between the two would count its records twice.
            await _services.Store.Delivery.EndRetryAsync(_destinationId, generation, Counts(summary), _services.Time.GetUtcNow(), _lease!.Fence, CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await _services.Store.Delivery.FinishAsync(_destinationId, Counts(summary), null, _services.Time.GetUtcNow(), _lease!.Fence, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<DeliverySummary> RunAsync(WorkerContext context, string settingsJson, List<DatasetItem> records, string runKey, string deliveryIdPrefix, CancellationToken stop)
    {
        var (settings, problems) = DestinationSettingsReader.Read(settingsJson, context.Row.Name);
        Destination? destination = null;
        if (problems.Count == 0)
        {
            (destination, problems) = Destination.Compile(settings, new PlannerOptions
            {
                ApiBase = context.Credential.ApiBase,
                DeliveryIdPrefix = deliveryIdPrefix,
                KeepRecordText = true,
                TimeProvider = _services.Time,

                // Many destinations share the server's processors: each plans on the thread it delivers from.
                Parallelism = 1,
            });
        }

        if (destination is null)
        {
            throw new InvalidOperationException($"the settings of '{context.Row.Name}' are not valid: {string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}"))}");
        }

        var lease = _lease!;
        var rejected = new StoreRejectedSink(_services.Store.Delivery, _destinationId, lease.Fence, _services.Time);
        await using var responses = settings.ResponseWebhook.Enabled ? await _services.ResponseSinkAsync(context.Row, _logger, stop).ConfigureAwait(false) : null;
        var runner = new DeliveryRunner(destination, context.Credential, _services.Store.Delivery.FencedLedger(lease.Fence), new DeliveryOptions
        {
            RunKey = runKey,
            CheckToken = false,
            Client = _client,
            Budgets = _services.Budgets(context.Credential.ApiBase),
            BudgetUser = context.TokenUser,
            RejectedSink = rejected,
            ResponseSinks = responses is null ? [] : [responses],
            StopGracePeriod = _services.StopGracePeriod,
            TimeProvider = _services.Time,
            OnCall = call => _services.Metrics.Call(context.Row.Name, call.Kind, call.Status, call.Duration),
            Logger = _logger,
        });
        _runner = runner;
        var started = Stopwatch.GetTimestamp();
        DeliverySummary summary;
        try
        {
            using var reader = RecordReader.FromDataset(records);
            summary = await runner.RunAsync(reader, stop, _abort.Token).ConfigureAwait(false);
        }
        finally
        {
            _runner = null;
            await rejected.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var counted = Counts(summary);
        _rate.Add(counted.Settled);
        _services.Metrics.Delivered(context.Row.Name, counted.Delivered, counted.Rejected, counted.PossiblyDelivered, summary.RateLimitWaits);
        Log.StretchDelivered(_logger, context.Row.Name, records.Count, summary.Delivered, summary.Rejected, summary.PossiblyDelivered, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (summary.Rejected + summary.PossiblyDelivered > 0)
        {
            Volatile.Write(ref _lastError, $"{summary.Rejected + summary.PossiblyDelivered} record(s) not delivered; see the destination's rejected records.");
        }

        return summary;
    }

    /// <summary>
    /// What a run adds to the destination's totals. Its calls always count. Its records count only when the run went
    /// to the end of its records: a run stopped part-way (a pause, a shutdown) is run again from the ledger by the next
    /// start, whose summary counts the records settled earlier once more — as it must after kill -9, which recorded
    /// nothing — so a record counts once, in the run that finishes its stretch (or its retry).
    /// </summary>
    private static DeliveryCounts Counts(DeliverySummary summary) => summary.Status == DeliveryRunStatus.Completed
        ? new(summary.Delivered, summary.Rejected, summary.PossiblyDelivered, summary.Requests, summary.Retries, summary.RateLimitWaits)
        : new(0, 0, 0, summary.Requests, summary.Retries, summary.RateLimitWaits);

    /// <summary>
    /// What held the worker up, in one line for the status: Orleans' own messages (a grain call to a silo that just left
    /// or did not answer in time) name its internal addresses and methods, so those say what happened instead.
    /// </summary>
    internal static string ErrorMessage(Exception e) => e switch
    {
        SiloUnavailableException => "a silo of the cluster it was talking to left (its pacing or a lookup is now elsewhere); trying again shortly.",
        OrleansException => $"the cluster could not answer ({e.GetType().Name}); trying again shortly.",
        TimeoutException when e.Message.Contains("Response did not arrive on time", StringComparison.Ordinal) => "a silo of the cluster did not answer in time; trying again shortly.",
        _ => e.Message,
    };

    private static DestinationSettings Settings(string json, string name) => DestinationSettingsReader.Read(json, name).Settings;

    /// <summary>Big enough to keep the senders busy, small enough that the cursor (and the lag it shows) moves often.</summary>
    private static int StretchSize(DestinationSettings settings) =>
        settings.Batching.Enabled ? Math.Clamp(settings.Batching.BatchSize * 20, 100, MaxStretchRecords) : Math.Clamp(settings.Delivery.Concurrency * 100, 100, MaxStretchRecords);

    /// <summary>The ledger run of a destination's records (<c>d{id}</c>), or of one of its retries (<c>d{id}.r{n}</c>).</summary>
    internal static string RunKey(long destinationId, int retry) => retry == 0 ? $"d{destinationId}" : $"d{destinationId}.r{retry}";

    /// <summary>
    /// The delivery-id prefix of a destination's create-builds: unique to this destination of this store (its id,
    /// name and creation time), so a lookup never takes another Kiteflow's build for one of its own; a retry gets ids of
    /// its own, because the build it sends was never made.
    /// </summary>
    internal static string DeliveryIdPrefix(DestinationRow row, int retry)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{row.Id}\n{row.Name}\n{row.CreatedAt.UtcTicks}"));
        var prefix = "kf" + Convert.ToHexStringLower(hash, 0, 8);
        return retry == 0 ? prefix : $"{prefix}.r{retry}";
    }

    /// <summary>The lease is lost: nothing is claimed or sent any more, and the calls in flight are cut (their answers could not be recorded).</summary>
    private void OnLeaseLost()
    {
        _state = "fenced";
        Volatile.Write(ref _lastError, $"stopped on this silo: {_lease?.LostReason ?? "another writer acquired the destination"}");
        _stopping.Cancel();
        _abort.Cancel();
    }

    private sealed record WorkerContext(DestinationRow Row, DatasetRow Dataset, Credential Credential, string TokenUser);
}
