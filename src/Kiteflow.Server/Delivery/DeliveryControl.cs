using Kiteflow.Delivery.Credentials;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Destinations;
using Kiteflow.Server.Endpoints;
using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// Activation, pause, resume and retries of destinations (SPEC §2.10): checks what must hold first, moves the
/// destination's state in the store, and starts or stops its grain. The REST API and the start-up of the server use it.
/// </summary>
internal sealed class DeliveryControl(IKiteflowStore store, IGrainFactory grains, DeliveryServices services, IAuditLog audit, ILogger<DeliveryControl> logger)
{
    /// <summary>
    /// Checks the destination's settings and credential (the token works and holds the endpoint's scope), then makes it
    /// active and starts it. A paused destination goes on where it stopped; a draft starts at the dataset's first record
    /// (<paramref name="onlyNewRecords"/>: at the records appended from now on).
    /// </summary>
    /// <returns>Null when it started; else the problems, keyed by what they are about.</returns>
    public async Task<Dictionary<string, List<string>>?> ActivateAsync(DestinationRow row, bool onlyNewRecords, string actor, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>();
        var credentialRow = await store.Credentials.GetByIdAsync(row.CredentialId, cancellationToken).ConfigureAwait(false);
        var dataset = await store.Datasets.GetByIdAsync(row.DatasetId, cancellationToken).ConfigureAwait(false);
        if (credentialRow is null)
        {
            errors.Add("credential", "The destination's credential was deleted; choose another credential, then activate it.");
        }

        if (dataset is null)
        {
            errors.Add("dataset", "The destination's dataset was deleted.");
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        var (compiled, problems) = SettingsCheck.Check(row.SettingsJson, row.Name, new Uri(credentialRow!.ApiBase), "settings.");
        if (compiled is null)
        {
            return problems;
        }

        // The token must work and hold the endpoint's scope before the destination is allowed to send anything.
        Credential credential;
        try
        {
            credential = services.Credentials.Open(credentialRow);
        }
        catch (CredentialException e)
        {
            errors.Add("credential", e.Message);
            return errors;
        }

        // A window just spent by this destination or another (a resume right after a burst) is waited out, briefly.
        var check = await new AccessTokenClient(services.Client).GetWaitingOutRateLimitAsync(credential, services.Time, checks: 3, longestWait: TimeSpan.FromMinutes(1), waiting: null, cancellationToken).ConfigureAwait(false);
        if (!check.IsValid)
        {
            errors.Add("credential", $"The token check failed: {check.Message}");
            return errors;
        }

        if (compiled.Scope is { } scope && check.ScopeProblem(scope) is { } scopeProblem)
        {
            errors.Add("credential", $"{compiled.Endpoint!.Id} needs the {scope} scope, and {scopeProblem}");
            return errors;
        }

        // The worker needs the token's user for the user budget: this check has just said who it is.
        services.RememberTokenUser(credential, check.Token!);

        if (compiled.Settings.ResponseWebhook.Enabled)
        {
            await services.ResponseDatasetAsync(row.Name, cancellationToken).ConfigureAwait(false);
        }

        var resuming = row.State == DestinationState.Paused;
        long? startCursor = resuming ? null : onlyNewRecords ? dataset!.RecordCount : 0;
        await store.Destinations.SetStateAsync(row.Id, row.Version, DestinationState.Active, services.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await grains.GetGrain<IDestinationGrain>(row.Id).StartAsync(resuming ? "resume" : "activate", startCursor).ConfigureAwait(false);
        Log.DestinationStateChanged(logger, row.Name, resuming ? "resumed" : "activated", actor);
        await audit.RecordAsync(actor, resuming ? "destination.resume" : "destination.activate", "destination", row.Name, new()
        {
            ["from"] = resuming ? "where it stopped" : onlyNewRecords ? $"new records only (offset {startCursor})" : "the first record",
            ["scope"] = compiled.Scope,
        }, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Pauses an active destination: no new records are claimed, calls in flight finish (bounded), then it returns.</summary>
    public async Task PauseAsync(DestinationRow row, string actor, CancellationToken cancellationToken)
    {
        await store.Destinations.SetStateAsync(row.Id, row.Version, DestinationState.Paused, services.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await grains.GetGrain<IDestinationGrain>(row.Id).StopAsync("pause").ConfigureAwait(false);
        Log.DestinationStateChanged(logger, row.Name, "paused", actor);
        await audit.RecordAsync(actor, "destination.pause", "destination", row.Name, new(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks records not delivered for a retry (all, or those at <paramref name="offsets"/>) and wakes the destination.</summary>
    public async Task<IReadOnlyList<long>> RetryAsync(DestinationRow row, IReadOnlyList<long>? offsets, bool includePossiblyDelivered, string actor, CancellationToken cancellationToken)
    {
        var marked = await store.Delivery.BeginRetryAsync(row.Id, offsets, includePossiblyDelivered, services.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (marked.Count > 0 && row.State == DestinationState.Active)
        {
            await grains.GetGrain<IDestinationGrain>(row.Id).StartAsync("retry", startCursor: null).ConfigureAwait(false);
        }

        await audit.RecordAsync(actor, "destination.retry", "destination", row.Name, new()
        {
            ["records"] = marked.Count,
            ["includePossiblyDelivered"] = includePossiblyDelivered,
        }, cancellationToken).ConfigureAwait(false);
        return marked;
    }

    /// <summary>What the destination has done and is doing.</summary>
    public async Task<DestinationStatus> StatusAsync(DestinationRow row, CancellationToken cancellationToken)
    {
        var progress = await store.Delivery.GetProgressAsync(row.Id, cancellationToken).ConfigureAwait(false);
        var (rejected, possiblyDelivered) = await store.Delivery.CountRejectedAsync(row.Id, cancellationToken).ConfigureAwait(false);
        var dataset = await store.Datasets.GetByIdAsync(row.DatasetId, cancellationToken).ConfigureAwait(false);
        var worker = row.State == DestinationState.Active
            ? await grains.GetGrain<IDestinationGrain>(row.Id).GetStatusAsync().ConfigureAwait(false)
            : new WorkerStatus();
        var records = dataset?.RecordCount ?? 0;
        return new DestinationStatus
        {
            Name = row.Name,
            State = DestinationEndpoints.DestinationView.StateName(row.State),
            Worker = worker.State,
            Silo = worker.Silo,
            DatasetRecords = records,
            Cursor = progress.Cursor,
            Delivered = progress.Totals.Delivered,
            Rejected = rejected,
            PossiblyDelivered = possiblyDelivered,
            Requests = progress.Totals.Requests,
            Retries = progress.Totals.Retries,
            RateLimitWaits = progress.Totals.RateLimitWaits,
            Lag = row.State == DestinationState.Draft ? 0 : Math.Max(0, records - progress.Cursor),
            RecordsPerSecond = Math.Round(worker.RecordsPerSecond, 2),
            LastError = worker.LastError ?? progress.LastError,
            LastErrorAt = progress.LastErrorAt,
            RetryUnderWay = progress.RetryGeneration > 0,
        };
    }

    /// <summary>On start: every destination the store says is active delivers again.</summary>
    public async Task RestartActiveAsync(CancellationToken cancellationToken)
    {
        foreach (var row in await store.Destinations.ListAsync(DestinationState.Active, cancellationToken).ConfigureAwait(false))
        {
            await grains.GetGrain<IDestinationGrain>(row.Id).StartAsync("restart", startCursor: null).ConfigureAwait(false);
        }
    }
}
