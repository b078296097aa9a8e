using Kiteflow.Delivery.Credentials;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Credentials;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>
/// <c>/api/v1/credentials</c>: Buildkite tokens, taken once, sealed with the master key, never returned. Check asks
/// Buildkite (<c>GET /v2/access-token</c>) what the token may do.
/// </summary>
internal static class CredentialEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/credentials").WithTags("Credentials");
        group.MapPost("/", CreateAsync).WithSummary("Store a credential: the token is sealed at once and never shown again.");
        group.MapGet("/", ListAsync).WithSummary("List credentials (never their tokens).");
        group.MapGet("/{name}", GetAsync).WithSummary("One credential (never its token).");
        group.MapDelete("/{name}", DeleteAsync).WithSummary("Delete a credential (refused while a destination uses it, and for the embedded sandbox's).");
        group.MapPost("/{name}/check", CheckAsync).WithSummary("Ask the API (GET /v2/access-token) whether the token works: scopes, expiry, user.");
    }

    private static async Task<Results<Created<CredentialView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        NewCredentialRequest request, HttpContext http, IKiteflowStore store, ServerCredentials credentials, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>();
        if (request.Name is null)
        {
            errors.Add("name", "Give the credential a name, e.g. acme-release.");
        }
        else if (CredentialRules.NameProblem(request.Name) is { } nameProblem)
        {
            errors.Add("name", nameProblem);
        }

        if (request.Token is null)
        {
            errors.Add("token", "Give the Buildkite API access token (bkua_…).");
        }
        else if (CredentialRules.TokenProblem(request.Token) is { } tokenProblem)
        {
            errors.Add("token", tokenProblem);
        }

        Uri? apiBase = null;
        if (request.ApiBase is { } text)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out apiBase))
            {
                errors.Add("apiBase", $"'{text}' is not an absolute URL such as https://api.buildkite.com.");
            }
            else if (CredentialRules.ApiBaseProblem(apiBase) is { } baseProblem)
            {
                errors.Add("apiBase", baseProblem);
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var normalized = CredentialRules.NormalizeApiBase(apiBase ?? CredentialRules.DefaultApiBase);
        SealedSecret secret;
        try
        {
            secret = credentials.Seal(request.Name!, normalized, request.Token!);
        }
        catch (CredentialException e)
        {
            return Problems.Status(StatusCodes.Status500InternalServerError, "The master key is not usable", e.Message);
        }

        try
        {
            var row = await store.Credentials.CreateAsync(new NewCredential(request.Name!, CredentialKind.Buildkite, normalized.OriginalString, secret, options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            Log.CredentialCreated(loggers.CreateLogger("Kiteflow.Server.Credentials"), row.Name, row.ApiBase);
            await audit.RecordAsync(Actors.Of(http.User), "credential.create", "credential", row.Name, new() { ["apiBase"] = row.ApiBase }, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/credentials/{row.Name}", CredentialView.Of(row));
        }
        catch (StoreConflictException e) when (e.Conflict == StoreConflict.NameTaken)
        {
            return Problems.Invalid("name", $"A credential named '{request.Name}' already exists; choose another name or delete that one first.");
        }
    }

    private static async Task<Ok<CredentialView[]>> ListAsync(IKiteflowStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.Credentials.ListAsync(cancellationToken).ConfigureAwait(false)).Select(CredentialView.Of).ToArray());

    private static async Task<Results<Ok<CredentialView>, ProblemHttpResult>> GetAsync(string name, IKiteflowStore store, CancellationToken cancellationToken) =>
        await store.Credentials.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } row
            ? TypedResults.Ok(CredentialView.Of(row))
            : Problems.NotFound("credential", name);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await store.Credentials.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("credential", name);
        }

        if (row.Kind == CredentialKind.Sandbox && options.EmbeddedSandbox)
        {
            return Problems.Conflict("The sandbox credential is managed by the server", "It points at the sandbox this server hosts and is renewed on every start; it reaches nothing real.");
        }

        try
        {
            await store.Credentials.DeleteAsync(row.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException e) when (e.Conflict == StoreConflict.InUse)
        {
            return Problems.Conflict("The credential is in use", $"'{name}' cannot be deleted: {e.Message}");
        }

        Log.CredentialDeleted(loggers.CreateLogger("Kiteflow.Server.Credentials"), name);
        await audit.RecordAsync(Actors.Of(http.User), "credential.delete", "credential", name, new() { ["apiBase"] = row.ApiBase }, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<CheckView>, ProblemHttpResult>> CheckAsync(
        string name, HttpContext http, IKiteflowStore store, ServerCredentials credentials, IHttpClientFactory clients, IAuditLog audit, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await store.Credentials.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return Problems.NotFound("credential", name);
        }

        Credential credential;
        try
        {
            credential = credentials.Open(row);
        }
        catch (CredentialException e)
        {
            return Problems.Conflict("The credential cannot be opened", e.Message);
        }

        var result = await new AccessTokenClient(clients.CreateClient(KiteflowServer.BuildkiteHttpClient)).GetAsync(credential, cancellationToken).ConfigureAwait(false);
        var status = ToKebab(result.Status.ToString());
        Log.CredentialChecked(loggers.CreateLogger("Kiteflow.Server.Credentials"), name, status);
        await audit.RecordAsync(Actors.Of(http.User), "credential.check", "credential", name, new() { ["status"] = status, ["httpStatus"] = result.HttpStatus }, cancellationToken).ConfigureAwait(false);
        var token = result.Token is { } info
            ? new TokenView(info.Scopes.ToArray(), info.Description, info.CreatedAt, info.ExpiresAt, info.UserName, info.UserEmail)
            : null;
        return TypedResults.Ok(new CheckView(name, result.IsValid, status, result.HttpStatus, credential.Redact(result.Message), token));
    }

    private static string ToKebab(string pascal) => string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Storing a credential.</summary>
    /// <param name="Name">1 to 64 letters, digits, '.', '_' or '-'.</param>
    /// <param name="Token">The Buildkite API access token; taken once, never returned.</param>
    /// <param name="ApiBase">Where the token may be sent; default https://api.buildkite.com (plain http only on loopback).</param>
    internal sealed record NewCredentialRequest(string? Name, string? Token, string? ApiBase);

    /// <summary>A credential as the API shows it: never the token.</summary>
    internal sealed record CredentialView(string Name, string Kind, string ApiBase, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static CredentialView Of(CredentialRow row) => new(row.Name, row.Kind == CredentialKind.Sandbox ? "sandbox" : "buildkite", row.ApiBase, row.CreatedAt, row.UpdatedAt);
    }

    /// <summary>What the API said about the token.</summary>
    internal sealed record CheckView(string Credential, bool Valid, string Status, int? HttpStatus, string Message, TokenView? Token);

    /// <summary>What the token may do.</summary>
    internal sealed record TokenView(string[] Scopes, string? Description, DateTimeOffset? CreatedAt, DateTimeOffset? ExpiresAt, string? UserName, string? UserEmail);
}
