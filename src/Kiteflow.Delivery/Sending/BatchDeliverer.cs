using System.Text.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Shaping;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Delivery.Pacing;
using Polly;
using Polly.Retry;

namespace Kiteflow.Delivery.Sending;

/// <summary>
/// Delivers one planned request by the rules of SPEC §4: paced, marked in flight in the ledger before
/// every attempt, retried only when that is safe (Polly), and a create-build whose outcome is unknown
/// looked up by its delivery id before it is ever sent again, so no build is triggered twice.
/// </summary>
/// <remarks>
/// Two tokens stop it. The stopping token (a graceful stop) cuts waits — for the pacer, a retry's backoff,
/// a lookup — and keeps new attempts from starting, but never a request already sent: that one is answered
/// and recorded. The cancellation token (an abort) cuts the request in flight too. Either way the batch is
/// left as the ledger can vouch for: pending when nothing of it can have been processed, in flight otherwise.
/// </remarks>
internal sealed class BatchDeliverer
{
    private const int MaxRateLimitedRetries = 30;
    private static readonly ResiliencePropertyKey<Attempts> StateKey = new("kiteflow.attempts");
    private readonly RequestSender _sender;
    private readonly BuildkitePacer _pacer;
    private readonly Action<DeliveryCall>? _onCall;
    private readonly IDeliveryLedger _ledger;
    private readonly ClaimBook _claims;
    private readonly ResponseRecords _responses;
    private readonly string _run;
    private readonly bool _isCreateBuild;
    private readonly bool _resendAmbiguous;
    private readonly ResiliencePipeline<AttemptOutcome> _pipeline;
    private readonly TimeProvider _time;
    private long _requests;
    private long _retries;
    private long _rateLimited;

    public BatchDeliverer(RequestSender sender, BuildkitePacer pacer, IDeliveryLedger ledger, ClaimBook claims, ResponseRecords responses, string run, Destination destination, TimeProvider time, Action<DeliveryCall>? onCall = null)
    {
        _onCall = onCall;
        _sender = sender;
        _pacer = pacer;
        _ledger = ledger;
        _claims = claims;
        _responses = responses;
        _run = run;
        _time = time;
        _isCreateBuild = destination.Endpoint?.Id == "builds.create";
        var method = destination.Settings.Method;
        _resendAmbiguous = method is "PUT" or "PATCH" or "DELETE" || destination.Settings.Delivery.RetryAmbiguousPosts;
        _pipeline = BuildPipeline(destination.Settings.Delivery.MaxAttempts, time);
    }

    /// <summary>
    /// Whether batches may be marked in flight ahead of sending, many in one durable write. A batch marked
    /// but never sent before a crash is settled safely by the next run: create-build by a lookup,
    /// idempotent methods by a resend. Other POSTs would be counted "possibly delivered" without cause,
    /// so for them each attempt is marked on its own, just before it goes.
    /// </summary>
    public bool ClaimsAhead => _isCreateBuild || _resendAmbiguous;

    /// <summary>API calls made: attempts and lookups.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Attempts after the first.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>429 answers received.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>
    /// Delivers <paramref name="request"/>. <paramref name="previous"/> is its ledger entry from an earlier
    /// run: when that run stopped while it was in flight, its outcome is settled before anything is resent.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="previous">Its ledger entry from an earlier run, if any.</param>
    /// <param name="stopping">A graceful stop: no new attempt, lookup or wait starts, the request in flight is answered.</param>
    /// <param name="cancellationToken">An abort: the request in flight is cut too.</param>
    /// <returns>The outcome; <see cref="BatchOutcome.Stopped"/> when a stop came first.</returns>
    public async Task<BatchOutcome> DeliverAsync(PlannedRequest request, LedgerEntry? previous, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var state = new Attempts(request, previous?.Attempts ?? 0) { SendToken = cancellationToken };
        if (previous is { State: BatchState.InFlight })
        {
            state.InFlightOnDisk = true;
            state.MaybeProcessed = true;
            state.StartedInFlight = true;
            if (_isCreateBuild)
            {
                state.LookUpFirst = true;
            }
            else if (!_resendAmbiguous)
            {
                return await FinishAsync(state, new BatchOutcome(BatchState.PossiblyDelivered, null,
                    $"An earlier run stopped while this {request.Method} was in flight, so it may have been processed; it was not resent (set delivery.retryAmbiguousPosts to resend such requests)."), CancellationToken.None).ConfigureAwait(false);
            }
        }

        var context = ResilienceContextPool.Shared.Get(stopping);
        context.Properties.Set(StateKey, state);
        try
        {
            var last = await _pipeline.ExecuteAsync(static (ctx, s) => s.Deliverer.AttemptAsync(s.State, ctx.CancellationToken), context, (Deliverer: this, State: state)).ConfigureAwait(false);
            return await FinishAsync(state, await ConcludeAsync(state, last, stopping).ConfigureAwait(false), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            return await StoppedAsync(state).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// A stop came before <paramref name="state"/>'s request was settled. When something of it may have been
    /// processed (an attempt is unanswered or was ambiguous, or an earlier run left it in flight and it was not
    /// yet looked up), the in-flight mark stays for the next run to settle. When nothing can have been (never
    /// sent, or every answer proves it was not processed), a mark this run made or found is given back: pending.
    /// </summary>
    private async Task<BatchOutcome> StoppedAsync(Attempts state)
    {
        // An answer that settles the batch came before the stop took effect: record it as such, never as pending
        // (a delivered create-build written back pending would be sent again).
        if (state.Last is { Kind: AttemptKind.Success or AttemptKind.FoundByLookup or AttemptKind.Refused } final)
        {
            return await FinishAsync(state, final.Kind == AttemptKind.Refused
                ? new BatchOutcome(BatchState.Rejected, final, $"Buildkite refused the request: {final.Error}")
                : new BatchOutcome(BatchState.Delivered, final, null), CancellationToken.None).ConfigureAwait(false);
        }

        var outcome = state.Unresolved
            ? new BatchOutcome(BatchState.InFlight, state.Last, "Stopped before its outcome was known; it stays in flight in the ledger, and the next run settles it before anything is resent.", Stopped: true)
            : new BatchOutcome(BatchState.Pending, state.Last, "Stopped before it was sent (or before it could be sent again): nothing of it was processed; the next run sends it.", Stopped: true);
        if (!state.Unresolved && state.InFlightOnDisk)
        {
            await _ledger.WriteAsync(Entry(state, BatchState.Pending, state.Count), durable: false, CancellationToken.None).ConfigureAwait(false);
        }

        if (state.Count > state.Previous)
        {
            // This run called for it: the responses say where the stop left it.
            await WriteSettledAsync(state, outcome).ConfigureAwait(false);
        }

        return outcome;
    }

    private async ValueTask<AttemptOutcome> AttemptAsync(Attempts state, CancellationToken cancellationToken)
    {
        if (state.LookUpFirst)
        {
            // The previous attempt may have created the build: look before sending again.
            state.LookUpFirst = false;
            if (await LookUpAsync(state, cancellationToken).ConfigureAwait(false) is { } found)
            {
                state.Last = found;
                return found;
            }

            // Looked up and not there: nothing of it was processed, so a stop from here on gives it back.
            state.MaybeProcessed = state.LookupFailed;
            if (state.LookupFailed)
            {
                // Whether the build exists is unknown: sending again could trigger it twice.
                return new AttemptOutcome(AttemptKind.Ambiguous, state.Count, _time.GetUtcNow(), TimeSpan.Zero)
                {
                    Error = "the build could not be looked up by its delivery id after an ambiguous failure",
                };
            }
        }

        var attempt = state.Count + 1;
        await using (var lease = await _pacer.AcquireAsync(state.Request.Url, cancellationToken).ConfigureAwait(false))
        {
            // A stop that came while this waited for the pacer: the attempt does not start.
            cancellationToken.ThrowIfCancellationRequested();

            // The runner's claim, made ahead of sending, covers the first attempt; every other one is marked here.
            // From this mark on, the request may leave the process.
            if (!_claims.TryTake(state.Request.Records[0]))
            {
                state.InFlightOnDisk = true;
                await _ledger.WriteAsync(Entry(state, BatchState.InFlight, attempt), durable: true, cancellationToken).ConfigureAwait(false);
            }

            state.InFlightOnDisk = true;
            state.Sending = true;
            state.Count = attempt;
            if (attempt > 1)
            {
                Interlocked.Increment(ref _retries);
            }

            Interlocked.Increment(ref _requests);
            AttemptOutcome outcome;
            try
            {
                // Only an abort cuts a request in flight: a graceful stop lets it be answered.
                outcome = await _sender.SendAsync(state.Request, attempt, state.SendToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await _responses.WriteAsync(state.Request, Aborted(attempt), CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            state.Last = outcome;
            state.Sending = false;
            state.MaybeProcessed |= outcome.MayHaveBeenProcessed;
            state.WasAmbiguous |= outcome.MayHaveBeenProcessed;
            await lease.ObserveAsync(outcome.RateLimits).ConfigureAwait(false);
            if (outcome.Kind == AttemptKind.RateLimited)
            {
                Interlocked.Increment(ref _rateLimited);
            }

            _onCall?.Invoke(new DeliveryCall("attempt", outcome.Status, outcome.Duration));
            await _responses.WriteAsync(state.Request, outcome, CancellationToken.None).ConfigureAwait(false);
            state.LookUpFirst = _isCreateBuild && outcome.MayHaveBeenProcessed;
            return outcome;
        }
    }

    /// <summary>The record of an attempt an abort cut while it was in flight.</summary>
    private AttemptOutcome Aborted(int attempt) => new(AttemptKind.Ambiguous, attempt, _time.GetUtcNow(), TimeSpan.Zero)
    {
        Error = "stopped at once while the request was in flight; it may have been processed",
    };

    /// <summary>Turns the last attempt into the batch's final state.</summary>
    private async Task<BatchOutcome> ConcludeAsync(Attempts state, AttemptOutcome last, CancellationToken cancellationToken)
    {
        switch (last.Kind)
        {
            case AttemptKind.Success or AttemptKind.FoundByLookup:
                return new BatchOutcome(BatchState.Delivered, last, null);
            case AttemptKind.Refused:
                return new BatchOutcome(BatchState.Rejected, last, $"Buildkite refused the request: {last.Error}");
            case AttemptKind.RateLimited:
                return new BatchOutcome(BatchState.Pending, last, $"Still rate limited after {state.Count} attempts; run the same command again to send it.", Retryable: true);
            case AttemptKind.NotSent:
                return new BatchOutcome(BatchState.Pending, last, $"Gave up after {state.Count} attempts: {last.Error}. Nothing reached Buildkite; run the same command again to send it.", Retryable: true);
        }

        // The last attempt may have been processed.
        if (_isCreateBuild)
        {
            if (!state.LookupFailed && await LookUpAsync(state, cancellationToken).ConfigureAwait(false) is { } found)
            {
                return new BatchOutcome(BatchState.Delivered, found, null);
            }

            if (!state.LookupFailed)
            {
                return new BatchOutcome(BatchState.Pending, last, $"Gave up after {state.Count} attempts ({last.Error}); a lookup by delivery id found no build, so running the same command again sends it once.", Retryable: true);
            }
        }

        if (_resendAmbiguous)
        {
            return new BatchOutcome(BatchState.Pending, last, $"Gave up after {state.Count} attempts ({last.Error}); {state.Request.Method} is safe to repeat, so running the same command again resends it.", Retryable: true);
        }

        return new BatchOutcome(BatchState.PossiblyDelivered, last,
            $"Possibly delivered: {last.Error}. A {state.Request.Method} is not resent when its outcome is unknown (set delivery.retryAmbiguousPosts to allow it); check Buildkite before sending it again.");
    }

    private async Task<BatchOutcome> FinishAsync(Attempts state, BatchOutcome outcome, CancellationToken cancellationToken)
    {
        var entry = Entry(state, outcome.State, state.Count) with
        {
            Status = outcome.Last?.Status,
            Message = outcome.Message,
            Response = outcome.State == BatchState.Rejected ? outcome.Last?.Body : null,
        };

        // Not waited for: if the process dies before this is on disk the batch is still "in flight",
        // which the next run settles by the same rules, safely.
        await _ledger.WriteAsync(entry, durable: false, cancellationToken).ConfigureAwait(false);
        if (state.WasAmbiguous || state.StartedInFlight)
        {
            // The responses show each call; when one of them (or an earlier run) left the outcome open, say how it was settled.
            await WriteSettledAsync(state, outcome).ConfigureAwait(false);
        }

        return outcome;
    }

    private ValueTask WriteSettledAsync(Attempts state, BatchOutcome outcome) =>
        _responses.WriteSettledAsync(state.Request, outcome, state.Count, _time.GetUtcNow(), CancellationToken.None);

    /// <summary>
    /// Looks the build up with the builds list's <c>meta_data</c> filter. Returns an outcome when the build
    /// exists, null when it does not (an empty list, or 404: no such pipeline for this token); a lookup that
    /// fails three times sets <see cref="Attempts.LookupFailed"/> (and returns null), so the request is not
    /// resent blindly.
    /// </summary>
    private async Task<AttemptOutcome?> LookUpAsync(Attempts state, CancellationToken cancellationToken)
    {
        var request = state.Request;
        var url = $"{request.Url}?meta_data%5B{BodyShaper.DeliveryIdKey}%5D={Uri.EscapeDataString(request.DeliveryId!)}";
        for (var i = 0; i < 3; i++)
        {
            AttemptOutcome outcome;
            await using (var lease = await _pacer.AcquireAsync(url, cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _requests);
                outcome = await GetLoggedAsync(state, url, i + 1, cancellationToken).ConfigureAwait(false);
                await lease.ObserveAsync(outcome.RateLimits).ConfigureAwait(false);
            }

            if (outcome is { Kind: AttemptKind.Success, BodyIsJson: true, Body: { } body })
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Array && document.RootElement.GetArrayLength() > 0)
                {
                    return outcome with { Kind = AttemptKind.FoundByLookup, Body = document.RootElement[0].GetRawText() };
                }

                return null;
            }

            if (outcome is { Kind: AttemptKind.Refused, Status: 404 })
            {
                // "No pipeline found": the pipeline does not exist or this token cannot see it, so no build
                // can have been created in it with this token. Resending is safe (and its 404 rejects it).
                return null;
            }

            if (outcome.Kind == AttemptKind.RateLimited)
            {
                Interlocked.Increment(ref _rateLimited);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * (i + 1)), _time, cancellationToken).ConfigureAwait(false);
        }

        state.LookupFailed = true;
        return null;
    }

    /// <summary>One lookup call, recorded in the responses (<c>kind: lookup</c>) like every call the summary counts.</summary>
    private async Task<AttemptOutcome> GetLoggedAsync(Attempts state, string url, int lookup, CancellationToken cancellationToken)
    {
        AttemptOutcome outcome;
        try
        {
            outcome = await _sender.GetAsync(url, cancellationToken).ConfigureAwait(false) with { Attempt = lookup };
        }
        catch (OperationCanceledException)
        {
            await _responses.WriteLookupAsync(state.Request, url, Aborted(lookup) with { Error = "stopped while the lookup was in flight" }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        _onCall?.Invoke(new DeliveryCall("lookup", outcome.Status, outcome.Duration));
        await _responses.WriteLookupAsync(state.Request, url, outcome, CancellationToken.None).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// The in-flight entry the runner writes when it claims <paramref name="request"/> ahead of sending, and the
    /// entry that gives the claim back if the request is never sent.
    /// </summary>
    public (LedgerEntry Claim, LedgerEntry Release) Claim(PlannedRequest request, LedgerEntry? previous)
    {
        var state = new Attempts(request, previous?.Attempts ?? 0);
        var release = previous is { State: BatchState.Pending } ? previous : Entry(state, BatchState.Pending, state.Count);
        return (Entry(state, BatchState.InFlight, state.Count + 1), release);
    }

    private LedgerEntry Entry(Attempts state, BatchState batchState, int attempts) => new()
    {
        Run = _run,
        FirstPosition = state.Request.Records[0],
        Positions = state.Request.Records,
        State = batchState,
        Attempts = attempts,
        DeliveryId = state.Request.DeliveryId,
        UpdatedAt = _time.GetUtcNow(),
    };

    private ResiliencePipeline<AttemptOutcome> BuildPipeline(int maxAttempts, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<AttemptOutcome> { TimeProvider = time };

        // Outer: a 429 means nothing was processed; send again once the limit it names has reset. The pacer
        // knows that limit is spent until then and holds the next attempt (and every other request that
        // spends it) for exactly that long; without pacing, wait here for the reset the 429 names.
        builder.AddRetry(new RetryStrategyOptions<AttemptOutcome>
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.Kind == AttemptKind.RateLimited),
            MaxRetryAttempts = MaxRateLimitedRetries,
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(_pacer.Enabled
                ? TimeSpan.Zero
                : TimeSpan.FromSeconds(args.Outcome.Result?.RateLimits.RetryAfterSeconds ?? 1) + TimeSpan.FromMilliseconds(Random.Shared.Next(50, 250))),
        });

        // Inner: other failures, only where resending is safe, with exponential backoff and jitter.
        if (maxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<AttemptOutcome>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { } r && args.Context.Properties.TryGetValue(StateKey, out var state) && ShouldRetry(r, state)),
                MaxRetryAttempts = maxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(30),
            });
        }

        return builder.Build();
    }

    private bool ShouldRetry(AttemptOutcome outcome, Attempts state) => outcome.Kind switch
    {
        AttemptKind.NotSent => true,
        AttemptKind.ServerError or AttemptKind.Ambiguous => (_isCreateBuild && !state.LookupFailed) || _resendAmbiguous,
        _ => false,
    };

    /// <summary>The state of one request's attempts, shared by the pipeline's callbacks.</summary>
    private sealed class Attempts(PlannedRequest request, int previous)
    {
        public PlannedRequest Request { get; } = request;

        /// <summary>Attempts made before this run.</summary>
        public int Previous { get; } = previous;

        /// <summary>Attempts made, over every run.</summary>
        public int Count { get; set; } = previous;

        public bool LookUpFirst { get; set; }

        public bool LookupFailed { get; set; }

        /// <summary>Cuts an attempt in flight: the run's abort, never its graceful stop.</summary>
        public CancellationToken SendToken { get; init; }

        /// <summary>The ledger holds this batch in flight (this run's mark or claim, or an earlier run's).</summary>
        public bool InFlightOnDisk { get; set; }

        /// <summary>An attempt is on its way: sent, or about to be, and not answered.</summary>
        public bool Sending { get; set; }

        /// <summary>An earlier attempt (of this run or an earlier one) may have been processed, and no lookup has proved it was not.</summary>
        public bool MaybeProcessed { get; set; }

        /// <summary>Something of it may have been processed: the ledger's in-flight mark must stay.</summary>
        public bool Unresolved => Sending || MaybeProcessed;

        /// <summary>An attempt of this run may have been processed without a success being seen.</summary>
        public bool WasAmbiguous { get; set; }

        /// <summary>An earlier run left it in flight.</summary>
        public bool StartedInFlight { get; set; }

        /// <summary>The last attempt's outcome in this run.</summary>
        public AttemptOutcome? Last { get; set; }
    }
}
