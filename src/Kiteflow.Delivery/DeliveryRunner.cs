using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Kiteflow.Core;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Delivery.Pacing;
using Kiteflow.Delivery.Sending;

namespace Kiteflow.Delivery;

/// <summary>
/// One delivery run: plans the input through the destination, skips what the ledger says is settled,
/// and sends the rest with <c>delivery.concurrency</c> senders fed through a bounded channel, paced,
/// retried and recorded (SPEC §4). Every record ends delivered, rejected or possibly delivered.
/// </summary>
internal sealed class DeliveryRunner
{
    private readonly Destination _destination;
    private readonly Credential _credential;
    private readonly IDeliveryLedger _ledger;
    private readonly DeliveryOptions _options;
    private readonly Stopwatch _clock = new();
    private Plan? _plan;
    private BatchDeliverer? _deliverer;
    private BuildkitePacer? _pacer;
    private long _delivered;
    private long _rejected;
    private long _possiblyDelivered;

    public DeliveryRunner(Destination destination, Credential credential, IDeliveryLedger ledger, DeliveryOptions options)
    {
        if (!destination.Options.KeepRecordText)
        {
            throw new ArgumentException("Compile the destination with KeepRecordText so rejected records can be written.", nameof(destination));
        }

        _destination = destination;
        _credential = credential;
        _ledger = ledger;
        _options = options;
    }

    /// <summary>The run's pacer, once the run has started: what it waited for.</summary>
    internal BuildkitePacer? Pacer => _pacer;

    /// <summary>The run's progress so far.</summary>
    public DeliveryProgress Progress => new(
        _plan?.RecordsRead ?? 0,
        Interlocked.Read(ref _delivered),
        Interlocked.Read(ref _rejected),
        Interlocked.Read(ref _possiblyDelivered),
        _deliverer?.Requests ?? 0,
        _deliverer?.Retries ?? 0,
        (_pacer?.Waits ?? 0) + (_deliverer?.RateLimited ?? 0),
        _clock.Elapsed,
        _plan?.InputFraction);

    /// <summary>
    /// Checks the token, then delivers every record of <paramref name="reader"/>.
    /// </summary>
    /// <exception cref="DeliveryStoppedException">The token is refused or lacks the endpoint's scope (nothing was sent), or the ledger failed.</exception>
    public async Task<DeliverySummary> RunAsync(RecordReader reader, CancellationToken cancellationToken)
    {
        _clock.Start();
        var settings = _destination.Settings;
        using var client = DeliveryHttp.Create(settings.Delivery.Concurrency, _options.Handler);
        await CheckTokenAsync(client, cancellationToken).ConfigureAwait(false);

        await using var responses = JsonLinesOutput.Open(_options.ResponsesPath, append: true);
        await using var forwarder = settings.ResponseWebhook.Enabled && settings.ResponseWebhook.ForwardUrl is { } forwardUrl
            ? new ResponseForwarder(new Uri(forwardUrl), _options.TimeProvider)
            : null;

        await using var rejected = JsonLinesOutput.Open(_options.RejectedPath, append: false);
        var rejectedRecords = new RejectedRecords(rejected);
        using var budgets = settings.Delivery.Pacing ? new RateLimitBudgets(_options.TimeProvider) : null;
        await using var pacer = new BuildkitePacer(budgets, _credential.Name, settings.Delivery.OrganizationRequestsPerMinute, settings.Delivery.UserRequestsPerMinute, _options.TimeProvider);
        _pacer = pacer;
        var responseRecords = new ResponseRecords(responses, settings.Name, forwarder);
        var sender = new RequestSender(client, _credential.RevealToken(), TimeSpan.FromSeconds(settings.Delivery.TimeoutSeconds), _options.TimeProvider, keepSuccessDetail: responseRecords.IsEnabled);
        _deliverer = new BatchDeliverer(sender, pacer, _ledger, responseRecords, _options.RunKey, _destination, _options.TimeProvider);
        var resuming = await _ledger.CountAsync(_options.RunKey, cancellationToken).ConfigureAwait(false) > 0;

        using var plan = _destination.Plan(reader);
        _plan = plan;
        var work = Channel.CreateBounded<Work>(new BoundedChannelOptions(settings.Delivery.Concurrency * 2) { SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var senders = Enumerable.Range(0, settings.Delivery.Concurrency)
            .Select(_ => Task.Run(() => SendAllAsync(work.Reader, rejectedRecords, stop), CancellationToken.None))
            .ToArray();
        var failures = new List<Exception>();
        try
        {
            // Reading and planning block on the input, so they get a thread of their own: a pool thread
            // held by them would starve the senders' continuations while the pool slowly grows.
            await Task.Factory.StartNew(() => ProduceAsync(plan, resuming, work.Writer, rejectedRecords, stop.Token).GetAwaiter().GetResult(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failures.Add(e);
            await stop.CancelAsync().ConfigureAwait(false);
        }

        work.Writer.TryComplete();
        foreach (var task in senders)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        await _ledger.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            // One failure cancels the rest, whose cancellations must not hide it.
            ExceptionDispatchInfo.Throw(failures.Find(e => e is not OperationCanceledException) ?? failures[0]);
        }

        if (forwarder is not null)
        {
            // Every queued record is sent before the summary counts them (disposing again later is harmless).
            await forwarder.DisposeAsync().ConfigureAwait(false);
        }

        _clock.Stop();
        return new DeliverySummary
        {
            Records = plan.RecordsRead,
            Delivered = _delivered,
            Rejected = _rejected,
            PossiblyDelivered = _possiblyDelivered,
            Requests = _deliverer.Requests,
            Retries = _deliverer.Retries,
            RateLimitWaits = pacer.Waits + _deliverer.RateLimited,
            ResponsesForwarded = forwarder?.Forwarded,
            ResponsesNotForwarded = forwarder?.Failed,
            DurationMs = (long)_clock.Elapsed.TotalMilliseconds,
        };
    }

    /// <summary>Before the first write: the token must be accepted and hold the endpoint's scope.</summary>
    private async Task CheckTokenAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var result = await new AccessTokenClient(client).GetAsync(_credential, cancellationToken).ConfigureAwait(false);
        if (!result.IsValid)
        {
            throw new DeliveryStoppedException($"The token check failed before anything was sent: {result.Message}");
        }

        if (_destination.Scope is { } scope && result.ScopeProblem(scope) is { } problem)
        {
            throw new DeliveryStoppedException($"Nothing was sent: {_destination.Endpoint!.Id} needs the {scope} scope, and {problem}");
        }
    }

    /// <summary>
    /// Enumerates the plan (synchronous reading, on a pool thread) and hands unsettled requests to the
    /// senders. Where the deliverer allows it, requests are marked in flight a chunk at a time, in one
    /// durable write, before any of them goes: one commit per chunk instead of one per request.
    /// </summary>
    private async Task ProduceAsync(Plan plan, bool resuming, ChannelWriter<Work> work, RejectedRecords rejected, CancellationToken cancellationToken)
    {
        var claimAhead = _deliverer!.ClaimsAhead;
        var chunkSize = Math.Max(16, 4 * _destination.Settings.Delivery.Concurrency);
        var chunk = new List<Work>(chunkSize);
        foreach (var item in plan)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (item.Rejection is { } rejection)
            {
                rejected.Write(rejection);
                Interlocked.Increment(ref _rejected);
                continue;
            }

            var request = item.Request!;
            LedgerEntry? previous = null;
            if (resuming)
            {
                previous = await _ledger.FindAsync(_options.RunKey, request.Records[0], cancellationToken).ConfigureAwait(false);
                if (previous is { State: BatchState.Delivered or BatchState.Rejected or BatchState.PossiblyDelivered })
                {
                    Settle(request, previous.State, previous.Message, previous.Status, previous.Response, rejected, retryable: false);
                    continue;
                }
            }

            // A batch left in flight by an earlier run is settled by the deliverer before it is sent again,
            // so it is not claimed here.
            chunk.Add(new Work(request, previous, Claimed: claimAhead && previous is not { State: BatchState.InFlight }));
            if (chunk.Count >= chunkSize || !claimAhead)
            {
                await HandOverAsync(chunk, work, cancellationToken).ConfigureAwait(false);
            }
        }

        await HandOverAsync(chunk, work, cancellationToken).ConfigureAwait(false);
    }

    private async Task HandOverAsync(List<Work> chunk, ChannelWriter<Work> work, CancellationToken cancellationToken)
    {
        var claims = chunk.Where(w => w.Claimed).Select(w => _deliverer!.Claim(w.Request, w.Previous)).ToList();
        if (claims.Count > 0)
        {
            await _ledger.WriteAllAsync(claims, cancellationToken).ConfigureAwait(false);
        }

        foreach (var item in chunk)
        {
            await work.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }

        chunk.Clear();
    }

    private async Task SendAllAsync(ChannelReader<Work> work, RejectedRecords rejected, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var (request, previous, claimed) in work.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                var outcome = await _deliverer!.DeliverAsync(request, previous, claimed, stop.Token).ConfigureAwait(false);
                Settle(request, outcome.CountedAs, outcome.Message, outcome.Last?.Status, outcome.State == BatchState.Rejected ? outcome.Last?.Body : null, rejected, outcome.Retryable);
            }
        }
        catch
        {
            // One sender failing (the ledger cannot be written, say) stops the run: the producer and the
            // other senders must not wait on it.
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void Settle(PlannedRequest request, BatchState state, string? message, int? status, string? response, RejectedRecords rejected, bool retryable)
    {
        var count = request.Records.Length;
        switch (state)
        {
            case BatchState.Delivered:
                Interlocked.Add(ref _delivered, count);
                return;
            case BatchState.Rejected:
                Interlocked.Add(ref _rejected, count);
                break;
            case BatchState.PossiblyDelivered:
                Interlocked.Add(ref _possiblyDelivered, count);
                break;
            default:
                throw new InvalidOperationException($"A batch cannot end {state}.");
        }

        for (var i = 0; i < count; i++)
        {
            rejected.Write(request.Records[i], request.Lines?[i], request.RecordTexts?[i], StageNames.Of(RejectionStage.Http), message ?? "Not delivered.", status, response, state == BatchState.PossiblyDelivered, retryable);
        }
    }

    /// <summary>A request on its way to a sender.</summary>
    private readonly record struct Work(PlannedRequest Request, LedgerEntry? Previous, bool Claimed);
}
