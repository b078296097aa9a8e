using System.Text;
using System.Text.Json;
using Kiteflow.Server.Delivery;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>
/// <c>/api/v1/destinations/{name}/…</c> for delivery: activate, pause, resume, the live status, runs, and the records
/// not delivered with their retry. Activation checks the settings and the credential first (SPEC §2.10).
/// </summary>
internal static class DestinationDeliveryEndpoints
{
    private const int MaxPage = 500;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/destinations/{name}").WithTags("Delivery");
        group.MapPost("/activate", ActivateAsync).WithSummary("Activate a draft (from its dataset's first record, or with {\"from\":\"new\"} only records appended from now on) or resume a paused destination; the settings and the credential (token valid, scope held) are checked first.");
        group.MapPost("/pause", PauseAsync).WithSummary("Pause an active destination: no new records are claimed, calls in flight finish (up to 10 s); activating it again resumes where it stopped.");
        group.MapPost("/resume", ResumeAsync).WithSummary("Resume a paused destination where it stopped.");
        group.MapGet("/status", StatusAsync).WithSummary("Live counts: delivered, rejected, possibly delivered, requests, retries, 429 waits, lag, rate, last error.");
        group.MapGet("/runs", RunsAsync).WithSummary("The destination's runs (activation or resume to pause), newest first, with what each did.");
        group.MapGet("/rejected", RejectedAsync).WithSummary("Records not delivered, by offset, with stage, reason, Buildkite's answer and the original record (?after=offset&limit=).");
        group.MapPost("/rejected/retry", RetryAsync).WithSummary("Send records not delivered again, after the settings were fixed: all of them, or {\"offsets\":[…]}; possibly delivered ones only with {\"includePossiblyDelivered\":true}.");
    }

    private static async Task<Results<Ok<DestinationStatus>, ValidationProblem, ProblemHttpResult>> ActivateAsync(string name, ActivateRequest? request, HttpContext http, IKiteflowStore store, DeliveryControl control, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        if (row.State == DestinationState.Active)
        {
            return Problems.Conflict("The destination is active", $"'{name}' is delivering already.");
        }

        var from = request?.From ?? "all";
        if (from is not ("all" or "new"))
        {
            return Problems.Invalid("from", $"'{from}' is not a choice: \"all\" delivers every record of the dataset, \"new\" only those appended from now on.");
        }

        if (row.State == DestinationState.Paused && request?.From is not null)
        {
            return Problems.Invalid("from", $"'{name}' is paused: it resumes where it stopped, so leave out \"from\".");
        }

        var problems = await control.ActivateAsync(row, from == "new", Actors.Of(http.User), cancellationToken).ConfigureAwait(false);
        if (problems is not null)
        {
            return Problems.Invalid(problems);
        }

        return TypedResults.Ok(await control.StatusAsync((await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false))!, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<Results<Ok<DestinationStatus>, ValidationProblem, ProblemHttpResult>> ResumeAsync(string name, HttpContext http, IKiteflowStore store, DeliveryControl control, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        if (row.State != DestinationState.Paused)
        {
            return Problems.Conflict("The destination is not paused", $"'{name}' is {DestinationEndpoints.DestinationView.StateName(row.State)}; only a paused destination resumes (a draft is activated).");
        }

        var problems = await control.ActivateAsync(row, onlyNewRecords: false, Actors.Of(http.User), cancellationToken).ConfigureAwait(false);
        return problems is not null
            ? Problems.Invalid(problems)
            : TypedResults.Ok(await control.StatusAsync((await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false))!, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<Results<Ok<DestinationStatus>, ProblemHttpResult>> PauseAsync(string name, HttpContext http, IKiteflowStore store, DeliveryControl control, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        if (row.State != DestinationState.Active)
        {
            return Problems.Conflict("The destination is not active", $"'{name}' is {DestinationEndpoints.DestinationView.StateName(row.State)}; only an active destination can be paused.");
        }

        await control.PauseAsync(row, Actors.Of(http.User), cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(await control.StatusAsync((await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false))!, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<Results<Ok<DestinationStatus>, ProblemHttpResult>> StatusAsync(string name, IKiteflowStore store, DeliveryControl control, CancellationToken cancellationToken) =>
        await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } row
            ? TypedResults.Ok(await control.StatusAsync(row, cancellationToken).ConfigureAwait(false))
            : Problems.NotFound("destination", name);

    private static async Task<Results<Ok<DeliveryRunRow[]>, ProblemHttpResult>> RunsAsync(string name, int? limit, IKiteflowStore store, CancellationToken cancellationToken) =>
        await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } row
            ? TypedResults.Ok((await store.Delivery.ListRunsAsync(row.Id, Math.Clamp(limit ?? 50, 1, MaxPage), cancellationToken).ConfigureAwait(false)).ToArray())
            : Problems.NotFound("destination", name);

    private static async Task<Results<Ok<RejectedPage>, ProblemHttpResult>> RejectedAsync(string name, long? after, int? limit, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        var page = await store.Delivery.ListRejectedAsync(row.Id, after ?? -1, Math.Clamp(limit ?? 100, 1, MaxPage), cancellationToken).ConfigureAwait(false);
        var items = new List<RejectedView>(page.Items.Count);
        foreach (var rejected in page.Items)
        {
            // The record itself is in the dataset, at its offset: shown as it is stored.
            var stored = await store.Datasets.ReadAsync(row.DatasetId, rejected.Offset, 1, cancellationToken).ConfigureAwait(false);
            JsonElement? record = stored.Count == 1 && stored[0].Offset == rejected.Offset ? Parse(stored[0].Json.Span) : null;
            items.Add(new RejectedView(rejected.Offset, rejected.Stage, rejected.Message, rejected.Status, rejected.Response is { } response ? Parse(Encoding.UTF8.GetBytes(response)) ?? JsonSerializer.SerializeToElement(response) : null, rejected.PossiblyDelivered, rejected.Retryable, rejected.At, rejected.RetryGeneration > 0, record));
        }

        var (count, possibly) = await store.Delivery.CountRejectedAsync(row.Id, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new RejectedPage(items, page.Next, count, possibly));
    }

    private static async Task<Results<Ok<RetryAnswer>, ValidationProblem, ProblemHttpResult>> RetryAsync(string name, RetryRequest? request, HttpContext http, IKiteflowStore store, DeliveryControl control, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        try
        {
            var marked = await control.RetryAsync(row, request?.Offsets, request?.IncludePossiblyDelivered ?? false, Actors.Of(http.User), cancellationToken).ConfigureAwait(false);
            var when = row.State == DestinationState.Active ? "now" : "when the destination is activated";
            return TypedResults.Ok(new RetryAnswer(marked.Count, marked.Count == 0 ? "No record matched: nothing to send again." : $"{marked.Count} record(s) will be sent again {when}, with the destination's current settings."));
        }
        catch (StoreConflictException e)
        {
            return Problems.Conflict("A retry is under way", e.Message);
        }
    }

    private static JsonElement? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            return JsonElement.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Activating: from the dataset's first record (<c>all</c>, the default) or only records appended from now on (<c>new</c>).</summary>
    internal sealed record ActivateRequest(string? From);

    /// <summary>Which records to send again: all when <c>offsets</c> is left out.</summary>
    internal sealed record RetryRequest(long[]? Offsets, bool? IncludePossiblyDelivered);

    internal sealed record RetryAnswer(int Records, string Message);

    internal sealed record RejectedView(long Offset, string Stage, string Message, int? Status, JsonElement? Response, bool PossiblyDelivered, bool Retryable, DateTimeOffset At, bool Retrying, JsonElement? Record);

    internal sealed record RejectedPage(IReadOnlyList<RejectedView> Items, long? Next, long Rejected, long PossiblyDelivered);
}
