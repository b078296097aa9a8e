using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Destinations;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>
/// <c>/api/v1/destinations</c>: dataset + credential + the settings of a destination file, saved as drafts. The state
/// is shown but not changed here (activation and pause belong to delivery). Import and export use the destination
/// file itself, so the CLI and the server share one format.
/// </summary>
internal static class DestinationEndpoints
{
    private const int MaxSettingsBytes = 1024 * 1024;

    private static readonly JsonDocumentOptions FileOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/destinations").WithTags("Destinations");
        group.MapPost("/", CreateAsync).WithSummary("Create a destination as a draft; every settings problem comes back under its key (settings.url, settings.batching.batchSize…), and nothing is saved.");
        group.MapGet("/", ListAsync).WithSummary("List destinations that are not deleted.");
        group.MapGet("/{name}", GetAsync).WithSummary("One destination.");
        group.MapPut("/{name}", UpdateAsync).WithSummary("Replace dataset, credential and settings (refused while active: pause first). Give the version you read to refuse lost updates.");
        group.MapDelete("/{name}", DeleteAsync).WithSummary("Delete a destination (refused while active: pause first).");
        group.MapPost("/import", ImportAsync).WithSummary("Create a draft from a destination file (the body): ?name=&dataset=&credential=.");
        group.MapGet("/{name}/export", ExportAsync).WithSummary("The destination file of a destination, as kiteflow preview and send read it.");
    }

    private static async Task<Results<Created<DestinationView>, ValidationProblem>> CreateAsync(
        DestinationRequest request, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var settings = request.Settings is { ValueKind: JsonValueKind.Object } element ? element.GetRawText() : null;
        return await SaveNewAsync(request.Name, request.Dataset, request.Credential, settings, "settings.", "destination.create", http, store, audit, options, loggers, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Results<Created<DestinationView>, ValidationProblem>> ImportAsync(
        string? name, string? dataset, string? credential, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var text = await ReadTextAsync(http.Request, cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return Problems.Invalid("body", $"The destination file is larger than {MaxSettingsBytes / 1024} KiB.");
        }

        // The file's own "name" names the destination unless ?name= does.
        if (name is null)
        {
            try
            {
                using var document = JsonDocument.Parse(text, FileOptions);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("name", out var fileName) && fileName.ValueKind == JsonValueKind.String)
                {
                    name = fileName.GetString();
                }
            }
            catch (JsonException)
            {
                // Reported by the settings check below, with its line.
            }
        }

        return await SaveNewAsync(name, dataset, credential, text, string.Empty, "destination.import", http, store, audit, options, loggers, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Results<Created<DestinationView>, ValidationProblem>> SaveNewAsync(
        string? name, string? datasetName, string? credentialName, string? settings, string prefix, string action, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>();
        if (Names.SlugProblem(name, "destination") is { } nameProblem)
        {
            errors.Add("name", nameProblem);
        }

        var (dataset, credential) = await ReferencesAsync(datasetName, credentialName, errors, store, cancellationToken).ConfigureAwait(false);
        Core.Planning.Destination? compiled = null;
        if (settings is null)
        {
            errors.Add(prefix.Length > 0 ? "settings" : "body", "Give the settings: a JSON object with the keys of a destination file (url, method, headers, batching…).");
        }
        else
        {
            var (destination, problems) = SettingsCheck.Check(settings, name ?? "destination", credential is null ? null : new Uri(credential.ApiBase), prefix);
            compiled = destination;
            foreach (var (key, messages) in problems)
            {
                messages.ForEach(m => errors.Add(key, m));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        try
        {
            var row = await store.Destinations.CreateAsync(new NewDestination(name!, dataset!.Id, credential!.Id, settings!, options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            Log.DestinationChanged(loggers.CreateLogger("Kiteflow.Server.Destinations"), row.Name, "created", row.Version);
            await audit.RecordAsync(Actors.Of(http.User), action, "destination", row.Name, new()
            {
                ["dataset"] = dataset.Name,
                ["credential"] = credential.Name,
                ["changes"] = SettingsDiff.Between(null, settings),
            }, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/destinations/{row.Name}", DestinationView.Of(row, dataset.Name, credential.Name, compiled));
        }
        catch (StoreConflictException e) when (e.Conflict == StoreConflict.NameTaken)
        {
            return Problems.Invalid("name", $"A destination named '{name}' already exists; choose another name.");
        }
    }

    private static async Task<Ok<DestinationView[]>> ListAsync(IKiteflowStore store, CancellationToken cancellationToken)
    {
        var rows = await store.Destinations.ListAsync(null, cancellationToken).ConfigureAwait(false);
        var datasets = (await store.Datasets.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(d => d.Id, d => d.Name);
        var credentials = (await store.Credentials.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(c => c.Id, c => c.Name);
        return TypedResults.Ok(rows.Select(r => DestinationView.Of(r, datasets.GetValueOrDefault(r.DatasetId, "(deleted)"), credentials.GetValueOrDefault(r.CredentialId, "(deleted)"), null)).ToArray());
    }

    private static async Task<Results<Ok<DestinationView>, ProblemHttpResult>> GetAsync(string name, IKiteflowStore store, CancellationToken cancellationToken) =>
        await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } row
            ? TypedResults.Ok(await ViewAsync(row, store, null, cancellationToken).ConfigureAwait(false))
            : Problems.NotFound("destination", name);

    private static async Task<Results<Ok<DestinationView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string name, DestinationUpdate request, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        if (row.State == DestinationState.Active)
        {
            return Problems.Conflict("The destination is active", $"'{name}' is delivering; pause it first, then change it, then activate it again.");
        }

        var errors = new Dictionary<string, List<string>>();
        if (request.Version is { } version && version != row.Version)
        {
            return Problems.Conflict("The destination changed", $"'{name}' is at version {row.Version}, not {version}; read it again and repeat the change.");
        }

        var before = await ViewAsync(row, store, null, cancellationToken).ConfigureAwait(false);
        var (dataset, credential) = await ReferencesAsync(request.Dataset ?? before.Dataset, request.Credential ?? before.Credential, errors, store, cancellationToken).ConfigureAwait(false);
        var settings = request.Settings is { ValueKind: JsonValueKind.Object } element ? element.GetRawText() : row.SettingsJson;
        var (compiled, problems) = SettingsCheck.Check(settings, name, credential is null ? null : new Uri(credential.ApiBase), "settings.");
        foreach (var (key, messages) in problems)
        {
            messages.ForEach(m => errors.Add(key, m));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        DestinationRow updated;
        try
        {
            updated = await store.Destinations.UpdateAsync(row.Id, row.Version, new DestinationChange(dataset!.Id, credential!.Id, settings, options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException e)
        {
            return Problems.Conflict("The destination changed", e.Message);
        }

        Log.DestinationChanged(loggers.CreateLogger("Kiteflow.Server.Destinations"), name, "updated", updated.Version);
        var details = new JsonObject { ["version"] = updated.Version, ["changes"] = SettingsDiff.Between(row.SettingsJson, settings) };
        if (dataset.Id != row.DatasetId)
        {
            details["dataset"] = new JsonObject { ["from"] = before.Dataset, ["to"] = dataset.Name };
        }

        if (credential.Id != row.CredentialId)
        {
            details["credential"] = new JsonObject { ["from"] = before.Credential, ["to"] = credential.Name };
        }

        await audit.RecordAsync(Actors.Of(http.User), "destination.update", "destination", name, details, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(DestinationView.Of(updated, dataset.Name, credential.Name, compiled));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        if (row.State == DestinationState.Active)
        {
            return Problems.Conflict("The destination is active", $"'{name}' is delivering; pause it first, then delete it.");
        }

        try
        {
            await store.Destinations.SetStateAsync(row.Id, row.Version, DestinationState.Deleted, options.TimeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException e)
        {
            return Problems.Conflict("The destination changed", e.Message);
        }

        Log.DestinationChanged(loggers.CreateLogger("Kiteflow.Server.Destinations"), name, "deleted", row.Version + 1);
        await audit.RecordAsync(Actors.Of(http.User), "destination.delete", "destination", name, new() { ["state"] = DestinationView.StateName(row.State) }, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> ExportAsync(string name, HttpContext http, IKiteflowStore store, CancellationToken cancellationToken)
    {
        if (await store.Destinations.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("destination", name);
        }

        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{row.Name}.json\"";
        var text = row.SettingsJson.EndsWith('\n') ? row.SettingsJson : row.SettingsJson + "\n";
        return TypedResults.Text(text, "application/json", Encoding.UTF8);
    }

    private static async Task<(DatasetRow? Dataset, CredentialRow? Credential)> ReferencesAsync(string? datasetName, string? credentialName, Dictionary<string, List<string>> errors, IKiteflowStore store, CancellationToken cancellationToken)
    {
        DatasetRow? dataset = null;
        CredentialRow? credential = null;
        if (string.IsNullOrEmpty(datasetName))
        {
            errors.Add("dataset", "Name the dataset the destination reads.");
        }
        else if ((dataset = await store.Datasets.GetAsync(datasetName, cancellationToken).ConfigureAwait(false)) is null)
        {
            errors.Add("dataset", $"There is no dataset named '{datasetName}'; create it first (POST /api/v1/datasets).");
        }

        if (string.IsNullOrEmpty(credentialName))
        {
            errors.Add("credential", "Name the credential the destination sends with (e.g. sandbox).");
        }
        else if ((credential = await store.Credentials.GetAsync(credentialName, cancellationToken).ConfigureAwait(false)) is null)
        {
            errors.Add("credential", $"There is no credential named '{credentialName}'; create it first (POST /api/v1/credentials).");
        }

        return (dataset, credential);
    }

    private static async Task<DestinationView> ViewAsync(DestinationRow row, IKiteflowStore store, Core.Planning.Destination? compiled, CancellationToken cancellationToken)
    {
        var dataset = await store.Datasets.GetByIdAsync(row.DatasetId, cancellationToken).ConfigureAwait(false);
        var credential = await store.Credentials.GetByIdAsync(row.CredentialId, cancellationToken).ConfigureAwait(false);
        return DestinationView.Of(row, dataset?.Name ?? "(deleted)", credential?.Name ?? "(deleted)", compiled);
    }

    private static async Task<string?> ReadTextAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxSettingsBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Creating a destination.</summary>
    /// <param name="Name">A slug.</param>
    /// <param name="Dataset">The dataset's name.</param>
    /// <param name="Credential">The credential's name.</param>
    /// <param name="Settings">The settings: the same JSON object as a destination file.</param>
    internal sealed record DestinationRequest(string? Name, string? Dataset, string? Credential, JsonElement? Settings);

    /// <summary>Changing a destination; what is left out stays.</summary>
    /// <param name="Dataset">The dataset's name.</param>
    /// <param name="Credential">The credential's name.</param>
    /// <param name="Settings">The whole new settings object.</param>
    /// <param name="Version">The version read; the change is refused (409) when the destination moved on since.</param>
    internal sealed record DestinationUpdate(string? Dataset, string? Credential, JsonElement? Settings, long? Version);

    /// <summary>A destination as the API shows it.</summary>
    internal sealed record DestinationView(string Name, string Dataset, string Credential, string State, JsonElement Settings, long Version, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Endpoint, string? Scope, string[]? Warnings)
    {
        public static DestinationView Of(DestinationRow row, string dataset, string credential, Core.Planning.Destination? compiled)
        {
            JsonElement settings;
            using (var document = JsonDocument.Parse(row.SettingsJson, FileOptions))
            {
                settings = document.RootElement.Clone();
            }

            return new(row.Name, dataset, credential, StateName(row.State), settings, row.Version, row.CreatedAt, row.UpdatedAt, compiled?.Endpoint?.Id, compiled?.Scope, compiled?.Warnings.ToArray());
        }

        public static string StateName(DestinationState state) => state.ToString().ToLowerInvariant();
    }
}
