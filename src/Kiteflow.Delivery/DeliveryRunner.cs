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
/// retried and recorded (SPEC §4). Every record ends delivered, rejected or possibly delivered — or, when
/// the run is stopped, pending for the next run.
/// </summary>
/// <remarks>
/// A run can be stopped two ways. A graceful stop (<c>stopping</c>) claims no new batch and starts no new
/// attempt, lets the requests in flight be answered for up to <see cref="DeliveryOptions.StopGracePeriod"/>,
/// then gives back the claims of batches never sent and returns a summary. An abort (the cancellation token,
/// or the grace period running out) cuts the requests in flight as well; they stay in flight in the ledger.
/// </remarks>
public sealed class DeliveryRunner
{
    private readonly Destination _destination;
    private readonly Credential _credential;
    private readonly IDeliveryLedger _ledger;
    private readonly DeliveryOptions _options;
    /// <summary>Token checks a run makes at most while the rate limit is spent, each after the reset the last answer named.</summary>
    private const int MaxTokenChecks = 4;

    private static readonly TimeSpan MaxTokenCheckWait = TimeSpan.FromMinutes(2);

    // RateLimit-Reset is whole seconds; a little more makes sure the window has turned.

    private readonly ClaimBook _claims = new();
    private readonly Stopwatch _clock = new();
    private readonly int _capacity;
    private Plan? _plan;
    private BatchDeliverer? _deliverer;
    private BuildkitePacer? _pacer;
    private ResponseForwarder? _forwarder;
    private long _delivered;
    private long _rejected;
    private long _possiblyDelivered;
    private long _deliveredEarlier;
    private long _notDeliveredEarlier;
    private long _tokenCheckWaits;
    private bool _planned;

    /// <summary>Prepares a run; nothing happens until <see cref="RunAsync(RecordReader, CancellationToken, CancellationToken)"/>.</summary>
    /// <param name="destination">The compiled destination, with <see cref="PlannerOptions.KeepRecordText"/> so rejected records keep their text.</param>
    /// <param name="credential">The token and the API base it goes to.</param>
    /// <param name="ledger">Where every batch's state is kept; the run's batches are named by <see cref="DeliveryOptions.RunKey"/>.</param>
    /// <param name="options">Outputs, sinks, shared parts and the clock.</param>
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

        // Batches wait in the channel already claimed (marked in flight): a few per sender keeps the senders fed
        // without leaving many claimed but unsent when the process is killed.
        _capacity = Math.Max(8, 2 * destination.Settings.Delivery.Concurrency);
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
        (_pacer?.Waits ?? 0) + (_deliverer?.RateLimited ?? 0) + Interlocked.Read(ref _tokenCheckWaits),
        _clock.Elapsed,
        _plan?.RecordsFound ?? 0,
        _plan?.InputEnded ?? false,
        _plan?.InputFraction);

    /// <summary>What the run has done so far, as a summary with <paramref name="status"/> (a failed run's, say).</summary>
    public DeliverySummary Summary(DeliveryRunStatus status, string? message)
    {
        var records = _plan?.RecordsRead ?? 0;
        var delivered = Interlocked.Read(ref _delivered);
        var rejected = Interlocked.Read(ref _rejected);
        var possiblyDelivered = Interlocked.Read(ref _possiblyDelivered);
        return new DeliverySummary
        {
            Status = status,
            Message = message,
            Records = records,
            Delivered = delivered,
            Rejected = rejected,
            PossiblyDelivered = possiblyDelivered,
            Pending = Math.Max(0, records - delivered - rejected - possiblyDelivered),
            DeliveredEarlier = Interlocked.Read(ref _deliveredEarlier),
            NotDeliveredEarlier = Interlocked.Read(ref _notDeliveredEarlier),
            Requests = _deliverer?.Requests ?? 0,
            Retries = _deliverer?.Retries ?? 0,
            RateLimitWaits = (_pacer?.Waits ?? 0) + (_deliverer?.RateLimited ?? 0) + Interlocked.Read(ref _tokenCheckWaits),
            ResponsesForwarded = _forwarder?.Forwarded,
            ResponsesNotForwarded = _forwarder?.Failed,
            DurationMs = (long)_clock.Elapsed.TotalMilliseconds,
        };
    }

    /// <summary>Checks the token, then delivers every record of <paramref name="reader"/>; <paramref name="cancellationToken"/> aborts.</summary>
    public Task<DeliverySummary> RunAsync(RecordReader reader, CancellationToken cancellationToken) =>
        RunAsync(reader, CancellationToken.None, cancellationToken);

    /// <summary>The warnings the records read so far gave (unknown fields, excluded attributes no record has, an empty input).</summary>
    public IReadOnlyList<string> InputWarnings => _plan?.InputWarnings ?? [];

    /// <summary>
    /// Checks the token, then delivers every record of <paramref name="reader"/>.
    /// </summary>
    /// <param name="reader">The input.</param>
    /// <param name="stopping">A graceful stop: see the remarks on the class.</param>
    /// <param name="cancellationToken">An abort: requests in flight are cut.</param>
    /// <returns>The summary: <see cref="DeliveryRunStatus.Stopped"/> when a stop or an abort ended the run before its end.</returns>
    /// <exception cref="DeliveryStoppedException">The token is refused or lacks the endpoint's scope (nothing was sent).</exception>
    /// <exception cref="InputException">The input cannot be read as a whole (the records before the problem were handled).</exception>
    public async Task<DeliverySummary> RunAsync(RecordReader reader, CancellationToken stopping, CancellationToken cancellationToken)
    {
        _clock.Start();
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var halt = CancellationTokenSource.CreateLinkedTokenSource(stopping, abort.Token);
        ITimer? grace = null;
        var graceLock = new Lock();
        var onStop = stopping.Register(() =>
        {
            lock (graceLock)
            {
                // The requests in flight get a bounded time to be answered; then they are cut.
                grace ??= _options.TimeProvider.CreateTimer(static s => TryCancel((CancellationTokenSource)s!), abort, _options.StopGracePeriod, Timeout.InfiniteTimeSpan);
            }
        });
        var logger = _options.Logger;
        DeliveryLog.Started(logger, _destination.Settings.Name, _options.RunKey, _destination.Settings.Delivery.Concurrency);
        try
        {
            var summary = await RunAsync(reader, halt.Token, abort).ConfigureAwait(false);
            DeliveryLog.Ended(logger, _destination.Settings.Name, summary.Status.ToString().ToLowerInvariant(), summary.Delivered, summary.Rejected, summary.PossiblyDelivered, summary.Pending, summary.Requests, summary.Retries, summary.RateLimitWaits, (long)_clock.Elapsed.TotalMilliseconds);
            return summary;
        }
        finally
        {
            await onStop.DisposeAsync().ConfigureAwait(false);
            lock (graceLock)
            {
                grace?.Dispose();
            }

            _clock.Stop();
        }
    }

    private async Task<DeliverySummary> RunAsync(RecordReader reader, CancellationToken halt, CancellationTokenSource abort)
    {
        var settings = _destination.Settings;
        using var ownClient = _options.Client is null ? DeliveryHttp.Create(settings.Delivery.Concurrency, _options.Handler) : null;
        var client = _options.Client ?? ownClient!;
        try
        {
            if (_options.CheckToken)
            {
                await CheckTokenAsync(client, halt).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (halt.IsCancellationRequested)
        {
            return Summary(DeliveryRunStatus.Stopped, "Stopped before anything was sent.");
        }

        if (_options.Restart != DeliveryRestart.None)
        {
            await _ledger.RestartAsync(_options.RunKey, _options.Restart == DeliveryRestart.Everything, lookUpPossiblyDelivered: _destination.Endpoint?.Id == "builds.create", CancellationToken.None).ConfigureAwait(false);
        }

        await using var responses = JsonLinesOutput.Open(_options.ResponsesPath, append: true);
        if (responses.TornBytesRemoved > 0)
        {
            _options.Warn?.Invoke($"{_options.ResponsesPath} ended with a half-written line ({responses.TornBytesRemoved:N0} bytes, left by a run that was killed while writing it); it was removed so the file stays valid JSON Lines. The ledger still knows how that call ended.");
        }

        await using var forwarder = settings.ResponseWebhook.Enabled && settings.ResponseWebhook.ForwardUrl is { } forwardUrl
            ? new ResponseForwarder(new Uri(forwardUrl), _options.TimeProvider)
            : null;
        _forwarder = forwarder;

        await using var rejected = JsonLinesOutput.Open(_options.RejectedPath, append: false);
        var rejectedRecords = new RejectedRecords(rejected, _options.RejectedSink);
        using var ownBudgets = settings.Delivery.Pacing && _options.Budgets is null ? new RateLimitBudgets(_options.TimeProvider) : null;
        IRateLimitBudgetSource? budgets = settings.Delivery.Pacing ? _options.Budgets ?? ownBudgets : null;
        await using var pacer = new BuildkitePacer(budgets, _options.BudgetUser ?? _credential.Name, settings.Delivery.OrganizationRequestsPerMinute, settings.Delivery.UserRequestsPerMinute, _options.TimeProvider);
        _pacer = pacer;
        var responseRecords = new ResponseRecords(responses, settings.Name, forwarder, _options.ResponseSinks);
        var sender = new RequestSender(client, _credential.RevealToken(), TimeSpan.FromSeconds(settings.Delivery.TimeoutSeconds), _options.TimeProvider, keepSuccessDetail: responseRecords.IsEnabled);
        _deliverer = new BatchDeliverer(sender, pacer, _ledger, _claims, responseRecords, _options.RunKey, _destination, _options.TimeProvider, _options.OnCall);
        var resuming = await _ledger.CountAsync(_options.RunKey, CancellationToken.None).ConfigureAwait(false) > 0;

        using var plan = _destination.Plan(reader);
        _plan = plan;
        var work = Channel.CreateBounded<Work>(new BoundedChannelOptions(_capacity) { SingleWriter = true });
        var senders = Enumerable.Range(0, settings.Delivery.Concurrency)
            .Select(_ => Task.Run(() => SendAllAsync(work.Reader, rejectedRecords, halt, abort), CancellationToken.None))
            .ToArray();
        var failures = new List<Exception>();
        Exception? inputFailure = null;
        try
        {
            // Reading and planning block on the input, so they get a thread of their own: a pool thread
            // held by them would starve the senders' continuations while the pool slowly grows.
            await Task.Factory.StartNew(() => ProduceAsync(plan, resuming, work, rejectedRecords, halt).GetAwaiter().GetResult(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (halt.IsCancellationRequested)
        {
            // Stopped (or a sender failed, which the senders report): no more batches are claimed.
        }
        catch (InputException e)
        {
            // The input cannot be read further: the batches already handed over are still delivered.
            inputFailure = e;
        }
        catch (Exception e)
        {
            failures.Add(e);
            await abort.CancelAsync().ConfigureAwait(false);
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

        await GiveBackUnsentClaimsAsync(failures).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            // One failure cancels the rest, whose cancellations must not hide it.
            ExceptionDispatchInfo.Throw(failures.Find(e => e is not OperationCanceledException) ?? failures[0]);
        }

        if (inputFailure is not null)
        {
            ExceptionDispatchInfo.Throw(inputFailure);
        }

        if (forwarder is not null)
        {
            // Every queued record is sent before the summary counts them (disposing again later is harmless).
            await forwarder.DisposeAsync().ConfigureAwait(false);
        }

        var summary = Summary(DeliveryRunStatus.Completed, null);
        return _planned && summary.Pending == 0
            ? summary
            : summary with { Status = DeliveryRunStatus.Stopped, Message = "Stopped on request before the end of the input." };
    }

    /// <summary>
    /// Writes back, as they were before, the claims of batches that never left the process — still in the
    /// channel, or stopped before their first attempt — so the next run sends them without a lookup.
    /// </summary>
    private async Task GiveBackUnsentClaimsAsync(List<Exception> failures)
    {
        var unsent = _claims.TakeAll();
        try
        {
            if (unsent.Count > 0)
            {
                await _ledger.WriteAllAsync(unsent, CancellationToken.None).ConfigureAwait(false);
            }

            await _ledger.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (failures.Count > 0)
        {
            // The ledger failed already; that first error is the one reported. The claims stay in flight,
            // which the next run settles safely.
            GC.KeepAlive(e);
        }
    }

    /// <summary>Before the first write: the token must be accepted and hold the endpoint's scope.</summary>
    private async Task CheckTokenAsync(HttpClient client, CancellationToken cancellationToken)
    {
        // A spent rate limit says nothing about the token: the run just stopped (or another client) spent it,
        // and rerunning right away is what a user does. Wait for the reset the answer names, as the pacer would
        // for any other call, rather than fail a run that would then have gone on.
        var result = await new AccessTokenClient(client).GetWaitingOutRateLimitAsync(_credential, _options.TimeProvider, MaxTokenChecks, MaxTokenCheckWait, reset =>
        {
            _options.Warn?.Invoke($"the rate limit is spent (by an earlier run or another client); checking the token again in {reset.TotalSeconds:0} s, when it resets.");
            Interlocked.Increment(ref _tokenCheckWaits);
        }, cancellationToken).ConfigureAwait(false);

        cancellationToken.ThrowIfCancellationRequested();
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
    /// Enumerates the plan (synchronous reading, on a thread of its own) and hands unsettled requests to the
    /// senders. Where the deliverer allows it, requests are marked in flight a few at a time, in one durable
    /// write — but only as many as go into the channel at once, so a claimed batch never waits behind a full
    /// channel, and a killed run leaves at most a channel's worth claimed but unsent.
    /// </summary>
    private async Task ProduceAsync(Plan plan, bool resuming, Channel<Work> work, RejectedRecords rejected, CancellationToken cancellationToken)
    {
        var claimAhead = _deliverer!.ClaimsAhead;
        var chunk = new List<Work>(_capacity);
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
                    Interlocked.Add(ref previous.State == BatchState.Delivered ? ref _deliveredEarlier : ref _notDeliveredEarlier, request.Records.Length);
                    Settle(request, previous.State, previous.Message, previous.Status, previous.Response, rejected, retryable: false);
                    continue;
                }
            }

            chunk.Add(new Work(request, previous));
            if (!claimAhead || chunk.Count >= Math.Max(1, _capacity - work.Reader.Count))
            {
                await HandOverAsync(chunk, work, claimAhead, cancellationToken).ConfigureAwait(false);
            }
        }

        await HandOverAsync(chunk, work, claimAhead, cancellationToken).ConfigureAwait(false);
        _planned = true;
    }

    private async Task HandOverAsync(List<Work> chunk, Channel<Work> work, bool claimAhead, CancellationToken cancellationToken)
    {
        var start = 0;
        while (start < chunk.Count)
        {
            // Room first, then the claims: only the producer writes, so the room seen here is still there below.
            await work.Writer.WaitToWriteAsync(cancellationToken).ConfigureAwait(false);
            var take = Math.Min(Math.Max(1, _capacity - work.Reader.Count), chunk.Count - start);
            if (claimAhead)
            {
                var claims = new List<LedgerEntry>(take);
                for (var i = start; i < start + take; i++)
                {
                    // A batch left in flight by an earlier run is settled by the deliverer before it is sent again,
                    // so it is not claimed here.
                    if (chunk[i].Previous is not { State: BatchState.InFlight })
                    {
                        var (claim, release) = _deliverer!.Claim(chunk[i].Request, chunk[i].Previous);
                        _claims.Add(claim.FirstPosition, release);
                        claims.Add(claim);
                    }
                }

                if (claims.Count > 0)
                {
                    await _ledger.WriteAllAsync(claims, cancellationToken).ConfigureAwait(false);
                }
            }

            for (var i = start; i < start + take; i++)
            {
                if (!work.Writer.TryWrite(chunk[i]))
                {
                    await work.Writer.WriteAsync(chunk[i], cancellationToken).ConfigureAwait(false);
                }
            }

            start += take;
        }

        chunk.Clear();
    }

    private async Task SendAllAsync(ChannelReader<Work> work, RejectedRecords rejected, CancellationToken halt, CancellationTokenSource abort)
    {
        try
        {
            while (await work.WaitToReadAsync(halt).ConfigureAwait(false))
            {
                while (!halt.IsCancellationRequested && work.TryRead(out var item))
                {
                    var outcome = await _deliverer!.DeliverAsync(item.Request, item.Previous, halt, abort.Token).ConfigureAwait(false);
                    if (!outcome.Stopped)
                    {
                        Log(item.Request, outcome);
                        Settle(item.Request, outcome.CountedAs, outcome.Message, outcome.Last?.Status, outcome.State == BatchState.Rejected ? outcome.Last?.Body : null, rejected, outcome.Retryable);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (halt.IsCancellationRequested)
        {
            // Stopped: what is still in the channel is given back by the runner.
        }
        catch
        {
            // One sender failing (the ledger cannot be written, say) stops the run: the producer and the
            // other senders must not wait on it.
            TryCancel(abort);
            throw;
        }
    }

    private void Log(PlannedRequest request, BatchOutcome outcome)
    {
        var (logger, name, records, position) = (_options.Logger, _destination.Settings.Name, request.Records.Length, request.Records[0]);
        switch (outcome)
        {
            case { Last.Kind: AttemptKind.FoundByLookup }:
                DeliveryLog.FoundByLookup(logger, name, position);
                break;
            case { State: BatchState.Rejected }:
                DeliveryLog.Refused(logger, name, records, position, outcome.Last?.Status, outcome.Message ?? "refused");
                break;
            case { State: BatchState.PossiblyDelivered }:
                DeliveryLog.PossiblyDelivered(logger, name, records, position, outcome.Message ?? "outcome unknown");
                break;
            case { Retryable: true }:
                DeliveryLog.Retryable(logger, name, records, position, outcome.Message ?? "not sent");
                break;
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

    private static void TryCancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run is over.
        }
    }

    /// <summary>A request on its way to a sender.</summary>
    private readonly record struct Work(PlannedRequest Request, LedgerEntry? Previous);
}
