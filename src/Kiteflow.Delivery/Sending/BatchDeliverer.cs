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
internal sealed class BatchDeliverer
{
    private const int MaxRateLimitedRetries = 30;
    private static readonly ResiliencePropertyKey<Attempts> StateKey = new("kiteflow.attempts");
    private readonly RequestSender _sender;
    private readonly BuildkitePacer _pacer;
    private readonly IDeliveryLedger _ledger;
    private readonly ResponseRecords _responses;
    private readonly string _run;
    private readonly bool _isCreateBuild;
    private readonly bool _resendAmbiguous;
    private readonly ResiliencePipeline<AttemptOutcome> _pipeline;
    private readonly TimeProvider _time;
    private long _requests;
    private long _retries;
    private long _rateLimited;

    public BatchDeliverer(RequestSender sender, BuildkitePacer pacer, IDeliveryLedger ledger, ResponseRecords responses, string run, Destination destination, TimeProvider time)
    {
        _sender = sender;
        _pacer = pacer;
        _ledger = ledger;
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
    /// run that stopped while it was in flight: then its outcome is settled before anything is resent.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="previous">Its ledger entry from an earlier run, if any.</param>
    /// <param name="claimed">Whether the runner already marked it in flight (see <see cref="ClaimsAhead"/>).</param>
    /// <param name="cancellationToken">Stops the delivery.</param>
    public async Task<BatchOutcome> DeliverAsync(PlannedRequest request, LedgerEntry? previous, bool claimed, CancellationToken cancellationToken)
    {
        var state = new Attempts(request, previous?.Attempts ?? 0) { Claimed = claimed };
        if (previous is { State: BatchState.InFlight })
        {
            if (_isCreateBuild)
            {
                state.LookUpFirst = true;
            }
            else if (!_resendAmbiguous)
            {
                return await FinishAsync(state, new BatchOutcome(BatchState.PossiblyDelivered, null,
                    $"An earlier run stopped while this {request.Method} was in flight, so it may have been processed; it was not resent (set delivery.retryAmbiguousPosts to resend such requests)."), cancellationToken).ConfigureAwait(false);
            }
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StateKey, state);
        try
        {
            var last = await _pipeline.ExecuteAsync(static (ctx, s) => s.Deliverer.AttemptAsync(s.State, ctx.CancellationToken), context, (Deliverer: this, State: state)).ConfigureAwait(false);
            return await FinishAsync(state, await ConcludeAsync(state, last, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<AttemptOutcome> AttemptAsync(Attempts state, CancellationToken cancellationToken)
    {
        if (state.LookUpFirst)
        {
            // The previous attempt may have created the build: look before sending again.
            state.LookUpFirst = false;
            if (await LookUpAsync(state, cancellationToken).ConfigureAwait(false) is { } found)
            {
                return found;
            }

            if (state.LookupFailed)
            {
                // Whether the build exists is unknown: sending again could trigger it twice.
                return new AttemptOutcome(AttemptKind.Ambiguous, state.Count, _time.GetUtcNow(), TimeSpan.Zero)
                {
                    Error = "the build could not be looked up by its delivery id after an ambiguous failure",
                };
            }
        }

        var attempt = ++state.Count;
        if (attempt > 1)
        {
            Interlocked.Increment(ref _retries);
        }

        using (var lease = await _pacer.AcquireAsync(state.Request.Url, cancellationToken).ConfigureAwait(false))
        {
            if (state.Claimed)
            {
                state.Claimed = false;  // the runner's claim covers the first attempt only
            }
            else
            {
                await _ledger.WriteAsync(Entry(state, BatchState.InFlight), durable: true, cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Increment(ref _requests);
            var outcome = await _sender.SendAsync(state.Request, attempt, cancellationToken).ConfigureAwait(false);
            lease.Observe(outcome.RateLimits);
            if (outcome.Kind == AttemptKind.RateLimited)
            {
                Interlocked.Increment(ref _rateLimited);
            }

            await _responses.WriteAsync(state.Request, outcome, cancellationToken).ConfigureAwait(false);
            state.LookUpFirst = _isCreateBuild && outcome.MayHaveBeenProcessed;
            return outcome;
        }
    }

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
        var entry = Entry(state, outcome.State) with
        {
            Status = outcome.Last?.Status,
            Message = outcome.Message,
            Response = outcome.State == BatchState.Rejected ? outcome.Last?.Body : null,
        };

        // Not waited for: if the process dies before this is on disk the batch is still "in flight",
        // which the next run settles by the same rules, safely.
        await _ledger.WriteAsync(entry, durable: false, cancellationToken).ConfigureAwait(false);
        return outcome;
    }

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
            using (var lease = await _pacer.AcquireAsync(url, cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _requests);
                outcome = await _sender.GetAsync(url, cancellationToken).ConfigureAwait(false);
                lease.Observe(outcome.RateLimits);
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

    /// <summary>The in-flight entry the runner writes when it claims <paramref name="request"/> ahead of sending.</summary>
    public LedgerEntry Claim(PlannedRequest request, LedgerEntry? previous) => Entry(new Attempts(request, previous?.Attempts ?? 0) { Count = (previous?.Attempts ?? 0) + 1 }, BatchState.InFlight);

    private LedgerEntry Entry(Attempts state, BatchState batchState) => new()
    {
        Run = _run,
        FirstPosition = state.Request.Records[0],
        Positions = state.Request.Records,
        State = batchState,
        Attempts = state.Count,
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

        public int Count { get; set; } = previous;

        public bool LookUpFirst { get; set; }

        public bool LookupFailed { get; set; }

        public bool Claimed { get; set; }
    }
}
