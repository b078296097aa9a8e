using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kiteflow.Core;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Pacing;

namespace Kiteflow.Delivery.Sending;

/// <summary>
/// The endpoint test (SPEC §2.9): one request planned exactly as delivery plans it — the first, or the one carrying a
/// chosen record — optionally with the body the user edited, sent once with the credential through the pacer (so it
/// spends from the same budgets as every delivery), and the API's real answer returned. A test call is never written
/// to a ledger and never retried. <c>kiteflow test</c> and the server's test endpoints both run it.
/// </summary>
public static class TestCall
{
    /// <summary>With no record chosen, how many rejected records the search for a first request goes through before it gives up.</summary>
    public const int MaxRejectionsBeforeFirstRequest = 1000;

    /// <summary>
    /// Plans <paramref name="reader"/>'s records through <paramref name="destination"/> until the request to test: the
    /// first one, or the one carrying the record at position <paramref name="record"/>; then puts
    /// <paramref name="editedBody"/> in place of its body. Nothing is sent. The reader is read and disposed.
    /// </summary>
    /// <remarks>
    /// Create-build requests get a delivery id of their own (<c>kftest…-N</c>), never the one delivery will give the
    /// record, so a later delivery's lookup can never take the test's build for its own.
    /// </remarks>
    /// <param name="destination">The compiled destination, with the credential's API base.</param>
    /// <param name="reader">The input.</param>
    /// <param name="record">The position of the record whose request to send; null for the first request.</param>
    /// <param name="editedBody">The body as the user edited it (the exact text to send), or null for the planned body.</param>
    /// <returns>The request, or why there is none (<see cref="TestCallRequest.RecordProblem"/>, <see cref="TestCallRequest.BodyProblem"/>).</returns>
    /// <exception cref="InputException">The input cannot be read as a whole before the request was found.</exception>
    public static TestCallRequest Prepare(Destination destination, RecordReader reader, long? record, string? editedBody)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(reader);
        if (record is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(record), record, "A record position is 0 or more.");
        }

        var options = destination.Options;
        var (own, _) = Destination.Compile(destination.Settings, new PlannerOptions
        {
            ApiBase = options.ApiBase,
            TimeProvider = options.TimeProvider,
            DeliveryIdPrefix = NewDeliveryIdPrefix(),
            ReaderLimits = options.ReaderLimits,
            MaxOpenGroups = options.MaxOpenGroups,
            Parallelism = 1,
        });
        destination = own ?? throw new ArgumentException("The destination's settings no longer compile.", nameof(destination));

        var (planned, recordProblem, rejection) = Find(destination, reader, record);
        if (planned is null)
        {
            return new TestCallRequest(destination, null, false, recordProblem, null, rejection);
        }

        if (editedBody is null)
        {
            return new TestCallRequest(destination, planned, false, null, null, null);
        }

        if (planned.Body is null)
        {
            var why = destination.Settings.Method == "DELETE" && !destination.Settings.Batching.Enabled
                ? "DELETE sends no body unless batching is on"
                : $"{destination.Endpoint?.Id ?? "this endpoint"} takes no body";
            return new TestCallRequest(destination, planned, true, null, $"This request carries no body ({why}); leave the edited body out.", null);
        }

        if (planned.BodyIsJson && JsonProblem(editedBody) is { } jsonProblem)
        {
            return new TestCallRequest(destination, planned, true, null, jsonProblem, null);
        }

        var edited = new PlannedRequest(planned.Index, planned.Method, planned.Url, planned.Headers, planned.ContentType, Encoding.UTF8.GetBytes(editedBody), planned.BodyIsJson, planned.Records, planned.DeliveryId, null);
        return new TestCallRequest(destination, edited, true, null, null, null);
    }

    /// <summary>
    /// Sends the prepared request once with <paramref name="credential"/>, after the pacer lets it go (the organization's
    /// and the token user's budgets, and the destination's own caps), and returns the answer. Never throws for a network
    /// or HTTP failure: those are outcomes.
    /// </summary>
    /// <param name="request">A request <see cref="TestCall.Prepare"/> made ready.</param>
    /// <param name="credential">The token and the API base it goes to: the destination must have been compiled for that API base.</param>
    /// <param name="options">The client, the shared budgets and the clock.</param>
    /// <param name="cancellationToken">Stops the wait for the rate limits, or the request.</param>
    /// <exception cref="ArgumentException">The request is not ready, or it goes somewhere other than the credential's API base.</exception>
    public static async Task<TestCallResult> SendAsync(TestCallRequest request, Credential credential, TestCallOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(options);
        if (!request.IsReady)
        {
            throw new ArgumentException($"There is no request to send: {request.RecordProblem ?? request.BodyProblem}", nameof(request));
        }

        var planned = request.Request!;
        var apiBase = credential.ApiBase.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/";
        if (!planned.Url.StartsWith(apiBase, StringComparison.OrdinalIgnoreCase))
        {
            // The token goes only to its own API base (SPEC §2.3); a destination compiled for another one is a caller's mistake.
            throw new ArgumentException($"The request goes to {new Uri(planned.Url).GetLeftPart(UriPartial.Authority)}, not to the credential's API base {credential.ApiBase}; compile the destination with the credential's API base.", nameof(request));
        }

        var settings = request.Destination.Settings;
        var time = options.TimeProvider;
        using var ownClient = options.Client is null ? DeliveryHttp.Create(1) : null;
        using var ownBudgets = settings.Delivery.Pacing && options.Budgets is null ? new RateLimitBudgets(time) : null;
        IRateLimitBudgetSource? budgets = settings.Delivery.Pacing ? options.Budgets ?? ownBudgets : null;
        await using var pacer = new BuildkitePacer(budgets, options.BudgetUser ?? credential.Name, settings.Delivery.OrganizationRequestsPerMinute, settings.Delivery.UserRequestsPerMinute, time);
        var waiting = Stopwatch.GetTimestamp();
        await using var lease = await pacer.AcquireAsync(planned.Url, cancellationToken).ConfigureAwait(false);
        var waited = Stopwatch.GetElapsedTime(waiting);

        var sender = new RequestSender(options.Client ?? ownClient!, credential.RevealToken(), TimeSpan.FromSeconds(settings.Delivery.TimeoutSeconds), time, keepSuccessDetail: true);
        AttemptOutcome outcome;
        try
        {
            outcome = await sender.SendAsync(planned, 1, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A shared client's own timeout, shorter than delivery.timeoutSeconds: as much an open question as ours.
            outcome = new AttemptOutcome(AttemptKind.Ambiguous, 1, time.GetUtcNow(), Stopwatch.GetElapsedTime(waiting) - waited)
            {
                Error = "no response within the HTTP client's timeout; the request may have been processed",
            };
        }

        await lease.ObserveAsync(outcome.RateLimits).ConfigureAwait(false);

        var kind = outcome.Kind switch
        {
            AttemptKind.NotSent => TestCallOutcome.NotSent,
            AttemptKind.Ambiguous when outcome.Status is null => TestCallOutcome.NoAnswer,
            _ => TestCallOutcome.Answered,
        };
        return new TestCallResult(request, credential.Name, kind, outcome.SentAt, outcome.Duration, waited)
        {
            Status = outcome.Status,
            ResponseHeaders = outcome.Headers,
            ResponseBody = outcome.Body is { } body ? credential.Redact(body) : null,
            ResponseBodyIsJson = outcome.BodyIsJson,
            Message = outcome.Error is { } error ? credential.Redact(error) : null,
        };
    }

    /// <summary>
    /// The warning shown before a test call that does not go to a sandbox: a write endpoint really writes. Ends with a
    /// full stop; callers add how to go ahead.
    /// </summary>
    /// <param name="apiBase">Where the call goes.</param>
    /// <param name="credentialName">The credential it is sent with.</param>
    public static string Caution(Uri apiBase, string credentialName)
    {
        ArgumentNullException.ThrowIfNull(apiBase);
        return $"This sends a real request to {apiBase.GetLeftPart(UriPartial.Path).TrimEnd('/')} with the credential '{credentialName}'. "
            + "At a write endpoint it creates or changes real things in that Buildkite organization — a build is triggered, a pipeline created, an annotation posted — and a test call is not undone. "
            + "Check the request first, and for a first try prefer a pipeline or organization kept for trials, or the sandbox.";
    }

    /// <summary>Why <paramref name="body"/> is not JSON (line and column), or null when it is.</summary>
    public static string? JsonProblem(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            // A body may nest deeper than a record: a batch wraps records that may nest 64 levels.
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 128 });
            return null;
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : string.Empty;
            return $"The edited body is not valid JSON{where}, and the json format sends JSON; fix it, or leave it out to send the planned body.";
        }
    }

    /// <summary>Plans until the request to test; with no record chosen, gives up after <see cref="MaxRejectionsBeforeFirstRequest"/> rejections.</summary>
    private static (PlannedRequest? Request, string? Problem, Rejection? Rejection) Find(Destination destination, RecordReader reader, long? record)
    {
        using var plan = destination.Plan(reader);
        Rejection? first = null;
        var rejected = 0L;
        foreach (var item in plan)
        {
            if (item.Request is { } planned)
            {
                if (record is not { } wanted || planned.Records.Contains(wanted))
                {
                    return (planned, null, null);
                }

                continue;
            }

            var rejection = item.Rejection!;
            if (record is { } chosen && rejection.Record == chosen)
            {
                return (null, $"Record {chosen} makes no request: it is rejected at {rejection.StageName}: {rejection.Message}", rejection);
            }

            first ??= rejection;
            if (record is null && ++rejected >= MaxRejectionsBeforeFirstRequest)
            {
                return (null, $"The first {rejected:N0} records make no request: every one is rejected (the first, record {first.Record}, at {first.StageName}: {first.Message}). The preview lists why.", null);
            }
        }

        if (record is { } missing)
        {
            return (null, $"There is no record {missing} in the input (positions start at 0; {plan.RecordsRead:N0} records were read).", null);
        }

        return first is null
            ? (null, "The input holds no records: there is nothing to send.", null)
            : (null, $"None of the {plan.RecordsRead:N0} records makes a request: every one is rejected (the first, record {first.Record}, at {first.StageName}: {first.Message}).", null);
    }

    /// <summary>A delivery-id prefix no delivery uses: <c>kftest</c> and 8 random hex digits.</summary>
    private static string NewDeliveryIdPrefix() => "kftest" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
}
