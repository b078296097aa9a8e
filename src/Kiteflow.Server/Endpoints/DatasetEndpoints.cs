using System.Text.Json;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Datasets;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary><c>/api/v1/datasets</c>: create, list, get, delete, upload, page through records, schema, rejections, export, ingest key.</summary>
internal static class DatasetEndpoints
{
    private const int PeekBytes = 64 * 1024;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets").WithTags("Datasets");
        group.MapPost("/", CreateAsync).WithSummary("Create a dataset; the answer holds its ingest key, shown only this once.");
        group.MapGet("/", ListAsync).WithSummary("List datasets with their record counts and source.");
        group.MapGet("/{name}", GetAsync).WithSummary("One dataset.");
        group.MapDelete("/{name}", DeleteAsync).WithSummary("Delete a dataset and its records (refused while a destination reads it).");
        group.MapPost("/{name}/records", UploadAsync).WithSummary("Upload records: a JSON array, JSON Lines or CSV body, streamed, appended in batches.");
        group.MapGet("/{name}/records", PageAsync).WithSummary("Records by offset: ?from=OFFSET&limit=N (at most 1,000).");
        group.MapGet("/{name}/schema", SchemaAsync).WithSummary("The inferred schema: attribute paths, their JSON types and how many records have them.");
        group.MapGet("/{name}/rejections", RejectionsAsync).WithSummary("Items that could not be read as records, with their lines: ?after=ID&limit=N.");
        group.MapGet("/{name}/export", ExportAsync).WithSummary("Every record as JSON Lines (?format=jsonl, the default) or CSV (?format=csv), streamed.");
        group.MapPost("/{name}/ingest-key", RotateKeyAsync).WithSummary("Replace the ingest key (the old one stops working); the answer holds the new key, shown only this once.");
    }

    private static async Task<Results<Created<CreatedDataset>, ValidationProblem>> CreateAsync(
        NewDatasetRequest request, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>();
        if (Names.SlugProblem(request.Name, "dataset") is { } nameProblem)
        {
            errors.Add("name", nameProblem);
        }

        var source = request.Source?.ToLowerInvariant() switch
        {
            null or "upload" => DatasetSource.Upload,
            "ingest" => DatasetSource.Ingest,
            _ => (DatasetSource?)null,
        };
        if (source is null)
        {
            errors.Add("source", $"'{request.Source}' is not a source a dataset can be created with; use upload or ingest (response datasets are made by destinations).");
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var key = Secrets.NewIngestKey();
        try
        {
            var row = await store.Datasets.CreateAsync(new NewDataset(request.Name!, source!.Value, new IngestKeySettings(Secrets.Hash(key), Secrets.ShownPrefix(key), request.RequireSignature ?? false), options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            Log.DatasetCreated(loggers.CreateLogger("Kiteflow.Server.Datasets"), row.Name);
            await audit.RecordAsync(Actors.Of(http.User), "dataset.create", "dataset", row.Name, new() { ["source"] = SourceName(row.Source), ["requireSignature"] = row.RequireSignature }, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/datasets/{row.Name}", new CreatedDataset(DatasetView.Of(row), key));
        }
        catch (StoreConflictException e) when (e.Conflict == StoreConflict.NameTaken)
        {
            return Problems.Invalid("name", $"A dataset named '{request.Name}' already exists; choose another name.");
        }
    }

    private static async Task<Ok<DatasetView[]>> ListAsync(IKiteflowStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.Datasets.ListAsync(cancellationToken).ConfigureAwait(false)).Select(DatasetView.Of).ToArray());

    private static async Task<Results<Ok<DatasetView>, ProblemHttpResult>> GetAsync(string name, IKiteflowStore store, CancellationToken cancellationToken) =>
        await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } row
            ? TypedResults.Ok(DatasetView.Of(row))
            : Problems.NotFound("dataset", name);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext http, IKiteflowStore store, IAuditLog audit, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("dataset", name);
        }

        try
        {
            await store.Datasets.DeleteAsync(row.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException e) when (e.Conflict == StoreConflict.InUse)
        {
            return Problems.Conflict("The dataset is in use", $"'{name}' cannot be deleted: {e.Message}");
        }

        Log.DatasetDeleted(loggers.CreateLogger("Kiteflow.Server.Datasets"), name);
        await audit.RecordAsync(Actors.Of(http.User), "dataset.delete", "dataset", name, new() { ["records"] = row.RecordCount }, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UploadAnswer>, ValidationProblem, ProblemHttpResult>> UploadAsync(
        string name, string? format, HttpContext http, IKiteflowStore store, DatasetAppender appender, IAuditLog audit, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } dataset)
        {
            return Problems.NotFound("dataset", name);
        }

        var (declared, problem) = BodyFormats.Declared(format, http.Request.ContentType);
        if (declared is null)
        {
            return Problems.Invalid("format", problem!);
        }

        // An upload has no size limit: it is read in constant memory. The readers are synchronous, and run on a thread of their own.
        http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize = null;
        http.Features.Get<IHttpBodyControlFeature>()?.AllowSynchronousIO = true;
        var (head, length, body) = await PrefixedStream.PeekAsync(http.Request.Body, PeekBytes, cancellationToken).ConfigureAwait(false);
        var (input, wrap) = BodyFormats.Refine(declared.Value, head.AsSpan(0, length), headIsWhole: length < PeekBytes);
        if (wrap)
        {
            body = new MemoryStream([.. "["u8, .. head.AsSpan(0, length), .. "]"u8]);
        }

        var outcome = await appender.UploadAsync(dataset, body, input, cancellationToken).ConfigureAwait(false);
        Log.Uploaded(loggers.CreateLogger("Kiteflow.Server.Datasets"), name, outcome.Appended, outcome.FirstOffset, outcome.Rejected);
        await audit.RecordAsync(Actors.Of(http.User), "dataset.upload", "dataset", name, new() { ["appended"] = outcome.Appended, ["rejected"] = outcome.Rejected, ["firstOffset"] = outcome.FirstOffset, ["error"] = outcome.Error }, cancellationToken).ConfigureAwait(false);
        var answer = new UploadAnswer(
            name,
            outcome.FirstOffset,
            outcome.Appended,
            outcome.Rejected,
            outcome.RecordCount,
            [.. outcome.Rejections.Select(r => new RejectionSummary(r.Line, r.Item, r.Message))],
            outcome.Error);
        if (outcome.Error is not null)
        {
            return Problems.Status(StatusCodes.Status422UnprocessableEntity, "The input cannot be read", $"{outcome.Error} ({outcome.Appended} records were appended before that, from offset {outcome.FirstOffset}.)");
        }

        return TypedResults.Ok(answer);
    }

    private static async Task<Results<Ok<RecordPage>, ValidationProblem, ProblemHttpResult>> PageAsync(string name, long? from, int? limit, IKiteflowStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>();
        if (from is < 0)
        {
            errors.Add("from", $"{from} is not an offset; offsets start at 0.");
        }

        if (limit is < 1 or > 1000)
        {
            errors.Add("limit", $"{limit} is out of range; ask for 1 to 1,000 records.");
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } dataset)
        {
            return Problems.NotFound("dataset", name);
        }

        var start = from ?? 0;
        var records = await store.Datasets.ReadAsync(dataset.Id, start, limit ?? 100, cancellationToken).ConfigureAwait(false);
        var items = records.Select(r => new RecordItem(r.Offset, JsonSerializer.Deserialize<JsonElement>(r.Json.Span))).ToArray();
        var next = records.Count > 0 && records[^1].Offset + 1 < dataset.RecordCount ? records[^1].Offset + 1 : (long?)null;
        return TypedResults.Ok(new RecordPage(start, items, next, dataset.RecordCount));
    }

    private static async Task<Results<Ok<SchemaView>, ProblemHttpResult>> SchemaAsync(string name, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } dataset)
        {
            return Problems.NotFound("dataset", name);
        }

        var paths = await store.Datasets.GetSchemaAsync(dataset.Id, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new SchemaView(dataset.RecordCount, dataset.RejectedCount, [.. paths.Select(p => new AttributeView(p.Path, p.TypeNames, p.Records))]));
    }

    private static async Task<Results<Ok<RejectionPage>, ValidationProblem, ProblemHttpResult>> RejectionsAsync(string name, long? after, int? limit, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            return Problems.Invalid("limit", $"{limit} is out of range; ask for 1 to 1,000 rejections.");
        }

        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } dataset)
        {
            return Problems.NotFound("dataset", name);
        }

        var page = await store.Datasets.ListReadRejectionsAsync(dataset.Id, after ?? 0, limit ?? 100, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new RejectionPage([.. page.Items.Select(r => new RejectionView(r.Id, r.Line, r.Item, r.Message, r.Origin, r.At))], page.Next));
    }

    private static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> ExportAsync(string name, string? format, IKiteflowStore store, CancellationToken cancellationToken)
    {
        var csv = format?.ToLowerInvariant() switch
        {
            null or "jsonl" or "ndjson" => false,
            "csv" => true,
            _ => (bool?)null,
        };
        if (csv is null)
        {
            return Problems.Invalid("format", $"'{format}' is not an export format; use jsonl or csv.");
        }

        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } dataset)
        {
            return Problems.NotFound("dataset", name);
        }

        var schema = csv.Value ? await store.Datasets.GetSchemaAsync(dataset.Id, cancellationToken).ConfigureAwait(false) : [];
        return TypedResults.Stream(
            stream => csv.Value ? RecordExport.CsvAsync(store, dataset, schema, stream, cancellationToken) : RecordExport.JsonLinesAsync(store, dataset, stream, cancellationToken),
            csv.Value ? "text/csv; charset=utf-8" : "application/x-ndjson",
            $"{dataset.Name}.{(csv.Value ? "csv" : "jsonl")}");
    }

    private static async Task<Results<Ok<CreatedKey>, ProblemHttpResult>> RotateKeyAsync(string name, KeyRequest? request, HttpContext http, IKiteflowStore store, IAuditLog audit, CancellationToken cancellationToken)
    {
        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } dataset)
        {
            return Problems.NotFound("dataset", name);
        }

        var key = Secrets.NewIngestKey();
        var requireSignature = request?.RequireSignature ?? dataset.RequireSignature;
        await store.Datasets.SetIngestKeyAsync(dataset.Id, new IngestKeySettings(Secrets.Hash(key), Secrets.ShownPrefix(key), requireSignature), cancellationToken).ConfigureAwait(false);
        await audit.RecordAsync(Actors.Of(http.User), "dataset.rotate-ingest-key", "dataset", name, new() { ["requireSignature"] = requireSignature }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CreatedKey(key, Secrets.ShownPrefix(key), requireSignature));
    }

    internal static string SourceName(DatasetSource source) => source.ToString().ToLowerInvariant();

    /// <summary>Creating a dataset.</summary>
    /// <param name="Name">A slug: lower-case letters, digits, '-' and '_'.</param>
    /// <param name="Source"><c>upload</c> (default) or <c>ingest</c>: informational, both work on every dataset.</param>
    /// <param name="RequireSignature">Whether ingest requests must carry <c>X-Kiteflow-Signature</c>. Default false.</param>
    internal sealed record NewDatasetRequest(string? Name, string? Source, bool? RequireSignature);

    /// <summary>Replacing the ingest key.</summary>
    /// <param name="RequireSignature">Whether ingest requests must be signed from now on; unchanged when left out.</param>
    internal sealed record KeyRequest(bool? RequireSignature);

    /// <summary>A dataset as the API shows it.</summary>
    internal sealed record DatasetView(string Name, string Source, long Records, long Rejected, DateTimeOffset CreatedAt, DateTimeOffset? LastAppendAt, string IngestUrl, string IngestKeyPrefix, bool RequireSignature)
    {
        public static DatasetView Of(DatasetRow row) =>
            new(row.Name, SourceName(row.Source), row.RecordCount, row.RejectedCount, row.CreatedAt, row.LastAppendAt, $"/ingest/{row.Name}", row.IngestKeyPrefix, row.RequireSignature);
    }

    /// <summary>A new dataset and its ingest key (shown only in this answer).</summary>
    internal sealed record CreatedDataset(DatasetView Dataset, string IngestKey);

    /// <summary>A new ingest key (shown only in this answer).</summary>
    internal sealed record CreatedKey(string IngestKey, string IngestKeyPrefix, bool RequireSignature);

    /// <summary>What an upload did.</summary>
    internal sealed record UploadAnswer(string Dataset, long FirstOffset, long Appended, long Rejected, long Records, RejectionSummary[] Rejections, string? Error);

    /// <summary>One record and its offset.</summary>
    internal sealed record RecordItem(long Offset, JsonElement Record);

    /// <summary>A page of records; <c>next</c> is the offset to ask for next, null at the end.</summary>
    internal sealed record RecordPage(long From, RecordItem[] Records, long? Next, long RecordCount);

    /// <summary>One attribute path, as <c>kiteflow inspect --json</c> writes it.</summary>
    internal sealed record AttributeView(string Path, IReadOnlyList<string> Types, long Records);

    /// <summary>The inferred schema, as <c>kiteflow inspect --json</c> writes it.</summary>
    internal sealed record SchemaView(long Records, long Rejected, AttributeView[] Attributes);

    /// <summary>One stored read rejection.</summary>
    internal sealed record RejectionView(long Id, long? Line, long Item, string Message, string Origin, DateTimeOffset At);

    /// <summary>A page of read rejections; <c>next</c> goes in <c>?after=</c>.</summary>
    internal sealed record RejectionPage(RejectionView[] Items, long? Next);
}
