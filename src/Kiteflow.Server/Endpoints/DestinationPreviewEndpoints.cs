using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Sending;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Credentials;
using Kiteflow.Server.Destinations;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>
/// Sample requests and the endpoint test (SPEC §2.8–2.9), for unsaved settings or a saved destination. The preview
/// answers the same document as <c>kiteflow preview --json</c> (<see cref="PreviewDocument"/>), planned over the
/// dataset's first records read a page at a time, fast enough to ask on every keystroke. The test sends one request —
/// the first, or the one carrying a chosen record, with the body as the user edited it — through the shared rate-limit
/// budgets, and answers the real response (<see cref="TestCall"/>); it is audited and never part of delivery, and unless
/// the credential is the embedded sandbox it must be confirmed.
/// </summary>
internal static class DestinationPreviewEndpoints
{
    /// <summary>The most requests one preview plans.</summary>
    public const int MaxLimit = 1000;

    /// <summary>The name of unsaved settings that do not name themselves.</summary>
    public const string UnsavedName = "unsaved";

    /// <summary>How much of a test call's body the audit entry keeps.</summary>
    private const int AuditedBodyChars = 64 * 1024;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/destinations").WithTags("Destinations");
        group.MapPost("/preview", PreviewAsync)
            .Produces(StatusCodes.Status200OK, typeof(JsonElement), "application/json")
            .WithSummary("The first requests unsaved settings would send for a dataset (the kiteflow preview --json document); settings problems come back under settings.<key> and nothing is planned.");
        group.MapPost("/{name}/preview", PreviewSavedAsync)
            .Produces(StatusCodes.Status200OK, typeof(JsonElement), "application/json")
            .WithSummary("The first requests a saved destination would send; settings in the body (unsaved edits) replace the saved ones.");
        group.MapPost("/test", TestAsync)
            .Produces(StatusCodes.Status200OK, typeof(JsonElement), "application/json")
            .ProducesProblem(StatusCodes.Status428PreconditionRequired)
            .WithSummary("Send one request of unsaved settings (the first, or the one carrying record; body replaces its body) and answer the real response. Needs confirm: true unless the credential is the sandbox.");
        group.MapPost("/{name}/test", TestSavedAsync)
            .Produces(StatusCodes.Status200OK, typeof(JsonElement), "application/json")
            .ProducesProblem(StatusCodes.Status428PreconditionRequired)
            .WithSummary("Send one request of a saved destination and answer the real response. Needs confirm: true unless the credential is the sandbox.");
    }

    private static async Task<Results<FileContentHttpResult, ValidationProblem>> PreviewAsync(PreviewRequest request, IKiteflowStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>();
        var dataset = await DatasetAsync(request.Dataset, errors, store, cancellationToken).ConfigureAwait(false);
        CredentialRow? credential = null;
        if (request.Credential is { } credentialName && (credential = await store.Credentials.GetAsync(credentialName, cancellationToken).ConfigureAwait(false)) is null)
        {
            errors.Add("credential", $"There is no credential named '{credentialName}'; leave it out to preview for https://api.buildkite.com, or create it first (POST /api/v1/credentials).");
        }

        var limit = Limit(request.Limit, errors);
        var destination = Settings(request.Settings, UnsavedName, credential, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        return await PlanAsync(destination!, dataset!, limit, store, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> PreviewSavedAsync(
        string name, SavedPreviewRequest? request, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (await SavedAsync(name, store, cancellationToken).ConfigureAwait(false) is not { } saved)
        {
            return Problems.NotFound("destination", name);
        }

        var (row, dataset, credential) = saved;

        if (dataset is null || credential is null)
        {
            return Problems.Conflict("The destination's dataset or credential is gone", $"'{name}' names a {(dataset is null ? "dataset" : "credential")} that no longer exists; choose another one (PUT /api/v1/destinations/{name}).");
        }

        var errors = new Dictionary<string, List<string>>();
        var limit = Limit(request?.Limit, errors);
        var settings = request?.Settings is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } edited ? edited : (JsonElement?)null;
        var destination = settings is null ? Settings(row.SettingsJson, name, credential, errors) : Settings(settings, name, credential, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        return await PlanAsync(destination!, dataset, limit, store, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Plans the preview over the dataset's first records, read lazily, on the request's thread.</summary>
    private static async Task<FileContentHttpResult> PlanAsync(Destination destination, DatasetRow dataset, int limit, IKiteflowStore store, CancellationToken cancellationToken)
    {
        // One record a request is the common case; the plan reads a few chunks ahead of what it yields.
        var pages = await DatasetPages.OpenAsync(store.Datasets, dataset.Id, 0, FirstPage(destination, limit), cancellationToken).ConfigureAwait(false);
        using var plan = destination.Plan(RecordReader.FromDataset(pages));
        var preview = PreviewDocument.Collect(destination, plan, limit);
        return TypedResults.Bytes(preview.ToUtf8Json(indented: false), "application/json");
    }

    private static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> TestAsync(
        TestRequest request, HttpContext http, [AsParameters] TestServices services, CancellationToken cancellationToken)
    {
        var store = services.Store;
        var errors = new Dictionary<string, List<string>>();
        var dataset = await DatasetAsync(request.Dataset, errors, store, cancellationToken).ConfigureAwait(false);
        CredentialRow? credential = null;
        if (string.IsNullOrEmpty(request.Credential))
        {
            errors.Add("credential", "Name the credential to send with (e.g. sandbox).");
        }
        else if ((credential = await store.Credentials.GetAsync(request.Credential, cancellationToken).ConfigureAwait(false)) is null)
        {
            errors.Add("credential", $"There is no credential named '{request.Credential}'; create it first (POST /api/v1/credentials).");
        }

        var destination = Settings(request.Settings, UnsavedName, credential, errors);
        return await SendTestAsync(destination, dataset, credential, saved: false, request.Record, request.Body, request.Confirm == true, errors, http, services, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> TestSavedAsync(
        string name, SavedTestRequest? request, HttpContext http, [AsParameters] TestServices services, CancellationToken cancellationToken)
    {
        var store = services.Store;
        if (await SavedAsync(name, store, cancellationToken).ConfigureAwait(false) is not { } saved)
        {
            return Problems.NotFound("destination", name);
        }

        var (row, dataset, credential) = saved;

        if (dataset is null || credential is null)
        {
            return Problems.Conflict("The destination's dataset or credential is gone", $"'{name}' names a {(dataset is null ? "dataset" : "credential")} that no longer exists; choose another one (PUT /api/v1/destinations/{name}).");
        }

        var errors = new Dictionary<string, List<string>>();
        var destination = Settings(row.SettingsJson, name, credential, errors);
        return await SendTestAsync(destination, dataset, credential, saved: true, request?.Record, request?.Body, request?.Confirm == true, errors, http, services, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The test call: the request's own problems first (400, nothing sent), then the caution (428 unless confirmed or the
    /// sandbox), then one request through the shared budgets, audited.
    /// </summary>
    private static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> SendTestAsync(
        Destination? destination, DatasetRow? dataset, CredentialRow? credentialRow, bool saved, long? record, JsonElement? bodyElement, bool confirmed, Dictionary<string, List<string>> errors, HttpContext http, TestServices services, CancellationToken cancellationToken)
    {
        var body = Body(bodyElement, errors);
        if (record is < 0)
        {
            errors.Add("record", "A record offset is 0 or more.");
        }
        else if (record is { } offset && dataset is not null && offset >= dataset.RecordCount)
        {
            errors.Add("record", dataset.RecordCount == 0
                ? $"The dataset '{dataset.Name}' holds no records yet."
                : $"The dataset '{dataset.Name}' has {dataset.RecordCount:N0} records (offsets 0 to {dataset.RecordCount - 1:N0}); there is no record {offset}.");
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        // Without batching a request carries one record, so planning from that record finds the same request as
        // planning from the start; with batching the plan reads from the start to find the batch that carries it.
        var from = record is { } chosen && !destination!.Settings.Batching.Enabled ? chosen : 0;
        var pages = await DatasetPages.OpenAsync(services.Store.Datasets, dataset!.Id, from, FirstPage(destination!, 1), cancellationToken).ConfigureAwait(false);
        var prepared = TestCall.Prepare(destination!, RecordReader.FromDataset(pages), record, body);
        if (prepared.RecordProblem is { } recordProblem)
        {
            return Problems.Invalid("record", recordProblem);
        }

        if (prepared.BodyProblem is { } bodyProblem)
        {
            return Problems.Invalid("body", bodyProblem);
        }

        var name = destination!.Settings.Name;
        var logger = services.Loggers.CreateLogger("Kiteflow.Server.Destinations");
        if (credentialRow!.Kind != CredentialKind.Sandbox && !confirmed)
        {
            Log.TestCallNotConfirmed(logger, name, credentialRow.Name);
            var caution = TestCall.Caution(new Uri(credentialRow.ApiBase), credentialRow.Name);
            return TypedResults.Problem(
                title: "Confirm the test call",
                detail: $"{caution} Send the same request again with \"confirm\": true to go ahead.",
                statusCode: StatusCodes.Status428PreconditionRequired,
                extensions: new Dictionary<string, object?> { ["caution"] = caution, ["confirm"] = "Add \"confirm\": true to the request." });
        }

        Credential credential;
        try
        {
            credential = services.Credentials.Open(credentialRow);
        }
        catch (CredentialException e)
        {
            return Problems.Conflict("The credential cannot be opened", e.Message);
        }

        // A test call spends from the same budgets as every destination of its organization and token user.
        string budgetUser;
        try
        {
            budgetUser = await services.Delivery.TokenUserAsync(credential, cancellationToken).ConfigureAwait(false);
        }
        catch (CredentialException e)
        {
            return Problems.Conflict("The credential does not work", e.Message);
        }

        var result = await TestCall.SendAsync(prepared, credential, new TestCallOptions
        {
            Client = services.Clients.CreateClient(KiteflowServer.BuildkiteHttpClient),
            Budgets = services.Delivery.Budgets(credential.ApiBase),
            BudgetUser = budgetUser,
            TimeProvider = services.Options.TimeProvider,
        }, cancellationToken).ConfigureAwait(false);

        var sent = prepared.Request!;
        Log.TestCallSent(logger, name, credential.Name, sent.Method, sent.Url, TestCallResult.OutcomeName(result.Outcome), result.Status, (long)result.Duration.TotalMilliseconds);
        await services.Audit.RecordAsync(Actors.Of(http.User), "destination.test-send", "destination", name, AuditDetails(result, credential, dataset, saved), cancellationToken).ConfigureAwait(false);
        return TypedResults.Bytes(result.ToUtf8Json(indented: false), "application/json");
    }

    /// <summary>Who sent what where, and what came back; the body with the token and secret-looking values hidden.</summary>
    private static JsonObject AuditDetails(TestCallResult result, Credential credential, DatasetRow dataset, bool saved)
    {
        var request = result.Request.Request!;
        var headers = new JsonObject();
        foreach (var (key, value) in request.DisplayHeaders())
        {
            headers[key] = credential.Redact(value);
        }

        var details = new JsonObject
        {
            ["saved"] = saved,
            ["dataset"] = dataset.Name,
            ["credential"] = credential.Name,
            ["method"] = request.Method,
            ["url"] = credential.Redact(request.Url),
            ["headers"] = headers,
            ["records"] = new JsonArray([.. request.Records.Select(r => (JsonNode)r)]),
            ["bodyEdited"] = result.Request.BodyEdited,
            ["outcome"] = TestCallResult.OutcomeName(result.Outcome),
            ["status"] = result.Status,
            ["durationMs"] = (long)result.Duration.TotalMilliseconds,
        };
        if (request.Body is { } bytes)
        {
            var text = credential.Redact(Encoding.UTF8.GetString(bytes));
            if (text.Length > AuditedBodyChars)
            {
                details["body"] = text[..AuditedBodyChars];
                details["bodyTruncated"] = true;
            }
            else if (request.BodyIsJson && TryParse(text) is { } json)
            {
                details["body"] = json;
            }
            else
            {
                details["body"] = text;
            }
        }

        if (result.Message is { } message)
        {
            details["message"] = message;
        }

        return details;
    }

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The records the plan likely needs at first: a few chunks beyond one record a request, more for batches.</summary>
    private static int FirstPage(Destination destination, int limit) =>
        destination.Settings.Batching.Enabled
            ? (int)Math.Clamp((long)limit * destination.Settings.Batching.BatchSize + 16, 64, 4096)
            : Math.Clamp(limit * 2 + 32, 32, 4096);

    private static int Limit(int? limit, Dictionary<string, List<string>> errors)
    {
        if (limit is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"{limit} is out of range; give a whole number from 1 to {MaxLimit:N0} (default {PreviewDocument.DefaultLimit}).");
        }

        return limit ?? PreviewDocument.DefaultLimit;
    }

    /// <summary>The edited body: a string is its text as it goes out; an object or array is the JSON body itself.</summary>
    private static string? Body(JsonElement? body, Dictionary<string, List<string>> errors)
    {
        switch (body?.ValueKind)
        {
            case null or JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return body.Value.GetString();
            case JsonValueKind.Object or JsonValueKind.Array:
                return body.Value.GetRawText();
            default:
                errors.Add("body", "Give the edited body as a string (its text exactly as it goes out) or as a JSON object or array; leave it out to send the planned body.");
                return null;
        }
    }

    private static async Task<DatasetRow?> DatasetAsync(string? name, Dictionary<string, List<string>> errors, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("dataset", "Name the dataset whose records to plan.");
            return null;
        }

        var dataset = await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (dataset is null)
        {
            errors.Add("dataset", $"There is no dataset named '{name}'; create it first (POST /api/v1/datasets).");
        }

        return dataset;
    }

    private static async Task<(DestinationRow Row, DatasetRow? Dataset, CredentialRow? Credential)?> SavedAsync(string name, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return null;
        }

        var dataset = await store.Datasets.GetByIdAsync(row.DatasetId, cancellationToken).ConfigureAwait(false);
        var credential = await store.Credentials.GetByIdAsync(row.CredentialId, cancellationToken).ConfigureAwait(false);
        return (row, dataset, credential);
    }

    /// <summary>Settings given in the request: checked as the CLI checks a destination file, problems under <c>settings.&lt;key&gt;</c>.</summary>
    private static Destination? Settings(JsonElement? settings, string name, CredentialRow? credential, Dictionary<string, List<string>> errors)
    {
        if (settings is not { ValueKind: JsonValueKind.Object } element)
        {
            errors.Add("settings", "Give the settings: a JSON object with the keys of a destination file (url, method, headers, batching…).");
            return null;
        }

        return Settings(element.GetRawText(), name, credential, errors);
    }

    private static Destination? Settings(string settingsJson, string name, CredentialRow? credential, Dictionary<string, List<string>> errors)
    {
        var (destination, problems) = SettingsCheck.Check(settingsJson, name, credential is null ? null : new Uri(credential.ApiBase), "settings.");
        foreach (var (key, messages) in problems)
        {
            messages.ForEach(m => errors.Add(key, m));
        }

        return destination;
    }

    /// <summary>A preview of unsaved settings.</summary>
    /// <param name="Dataset">The dataset whose first records are planned.</param>
    /// <param name="Credential">The credential whose API base replaces https://api.buildkite.com; leave out for Buildkite itself.</param>
    /// <param name="Settings">The settings: the same JSON object as a destination file.</param>
    /// <param name="Limit">How many requests to plan: 1 to 1,000, default 5.</param>
    internal sealed record PreviewRequest(string? Dataset, string? Credential, JsonElement? Settings, int? Limit);

    /// <summary>A preview of a saved destination.</summary>
    /// <param name="Settings">Unsaved settings to preview in place of the saved ones (the dataset and credential stay).</param>
    /// <param name="Limit">How many requests to plan: 1 to 1,000, default 5.</param>
    internal sealed record SavedPreviewRequest(JsonElement? Settings, int? Limit);

    /// <summary>A test call of unsaved settings.</summary>
    /// <param name="Dataset">The dataset whose record is sent.</param>
    /// <param name="Credential">The credential to send with.</param>
    /// <param name="Settings">The settings: the same JSON object as a destination file.</param>
    /// <param name="Record">The offset of the record whose request to send; default the first request.</param>
    /// <param name="Body">The edited body: a string (its text as it goes out) or a JSON object or array; default the planned body.</param>
    /// <param name="Confirm">True to send with a credential that is not the sandbox: it really writes.</param>
    internal sealed record TestRequest(string? Dataset, string? Credential, JsonElement? Settings, long? Record, JsonElement? Body, bool? Confirm);

    /// <summary>What a test call works with.</summary>
    /// <param name="Store">Datasets, credentials, destinations.</param>
    /// <param name="Credentials">Opens the credential.</param>
    /// <param name="Audit">Where the call is recorded.</param>
    /// <param name="Options">The clock.</param>
    /// <param name="Loggers">The log.</param>
    /// <param name="Clients">The client for Buildkite (no redirects).</param>
    /// <param name="Delivery">What deliveries share: the rate-limit budgets of every organization and token user, the token users.</param>
    internal sealed record TestServices(IKiteflowStore Store, ServerCredentials Credentials, IAuditLog Audit, ServerOptions Options, ILoggerFactory Loggers, IHttpClientFactory Clients, Delivery.DeliveryServices Delivery);

    /// <summary>A test call of a saved destination.</summary>
    /// <param name="Record">The offset of the record whose request to send; default the first request.</param>
    /// <param name="Body">The edited body: a string (its text as it goes out) or a JSON object or array; default the planned body.</param>
    /// <param name="Confirm">True to send with a credential that is not the sandbox: it really writes.</param>
    internal sealed record SavedTestRequest(long? Record, JsonElement? Body, bool? Confirm);
}
