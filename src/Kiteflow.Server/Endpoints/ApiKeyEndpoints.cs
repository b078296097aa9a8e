using Kiteflow.Server.Audit;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>
/// <c>/api/v1/api-keys</c>: bearer keys for scripts, created by an admin logged in with the password (a key cannot
/// make more keys, so a leaked key cannot outlive its revocation). The key is shown once; the store keeps its hash.
/// </summary>
internal static class ApiKeyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/api-keys").WithTags("API keys").RequireAuthorization(policy => policy.RequireRole(AuthSchemes.AdminRole));
        group.MapPost("/", CreateAsync).WithSummary("Create an API key; the answer holds the key, shown only this once.");
        group.MapGet("/", ListAsync).WithSummary("List API keys (prefixes only), revoked ones included.");
        group.MapDelete("/{id:long}", RevokeAsync).WithSummary("Revoke an API key.");
    }

    private static async Task<Results<Created<CreatedApiKey>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        NewApiKeyRequest request, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!Actors.IsSession(http.User))
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "Log in with the password", "API keys are created in a session (POST /api/v1/session), not with another API key.");
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            return Problems.Invalid("name", "Say what the key is for in 1 to 200 characters, e.g. \"ci-import\".");
        }

        var key = Secrets.NewApiKey();
        var row = await store.Users.CreateApiKeyAsync(new NewApiKey(Actors.UserId(http.User), request.Name.Trim(), Secrets.ShownPrefix(key), Secrets.Hash(key), options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        Log.ApiKeyCreated(loggers.CreateLogger("Kiteflow.Server.ApiKeys"), row.Prefix, row.UserName);
        await audit.RecordAsync(Actors.Of(http.User), "api-key.create", "api-key", row.Prefix, new() { ["name"] = row.Name }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/api-keys/{row.Id}", new CreatedApiKey(row.Id, row.Name, row.Prefix, key, row.CreatedAt));
    }

    private static async Task<Ok<ApiKeyView[]>> ListAsync(IKiteflowStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.Users.ListApiKeysAsync(cancellationToken).ConfigureAwait(false)).Select(ApiKeyView.Of).ToArray());

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(long id, HttpContext http, IKiteflowStore store, IAuditLog audit, ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!Actors.IsSession(http.User))
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "Log in with the password", "API keys are revoked in a session, not with another API key.");
        }

        var row = (await store.Users.ListApiKeysAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(k => k.Id == id);
        if (row is null || !await store.Users.RevokeApiKeyAsync(id, options.TimeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            return Problems.Status(StatusCodes.Status404NotFound, "No such API key", $"There is no API key {id} that is not revoked already.");
        }

        Log.ApiKeyRevoked(loggers.CreateLogger("Kiteflow.Server.ApiKeys"), row.Prefix);
        await audit.RecordAsync(Actors.Of(http.User), "api-key.revoke", "api-key", row.Prefix, new() { ["name"] = row.Name }, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>Creating an API key.</summary>
    /// <param name="Name">What it is for.</param>
    internal sealed record NewApiKeyRequest(string? Name);

    /// <summary>A new API key, with the key itself (shown only in this answer).</summary>
    internal sealed record CreatedApiKey(long Id, string Name, string Prefix, string Key, DateTimeOffset CreatedAt);

    /// <summary>An API key as lists show it (never the key).</summary>
    internal sealed record ApiKeyView(long Id, string Name, string Prefix, string User, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
    {
        public static ApiKeyView Of(ApiKeyRow row) => new(row.Id, row.Name, row.Prefix, row.UserName, row.CreatedAt, row.LastUsedAt, row.RevokedAt);
    }
}
