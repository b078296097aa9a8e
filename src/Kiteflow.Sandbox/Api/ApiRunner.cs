using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Hosting;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api;

/// <summary>
/// Runs an endpoint's handler the way Buildkite checks a request once it is authenticated and counted:
/// the token's scope (403), the body (JSON only), the organization (404 <c>No organization found</c>),
/// then the handler, under the store's lock.
/// </summary>
internal sealed class ApiRunner(SandboxRuntime runtime)
{
    /// <summary>Maps one endpoint: <paramref name="pattern"/> is under <c>/v2</c>; an <c>{org}</c> route value names the organization.</summary>
    public void Map(IEndpointRouteBuilder routes, string method, string pattern, string? scope, Func<RequestContext, ApiResult> handler) =>
        routes.MapMethods("/v2" + pattern, [method], (HttpContext http) =>
            Run(http, scope, http.Request.RouteValues.TryGetValue("org", out var org) ? org as string : null, handler));

    public ApiResult Run(HttpContext http, string? scope, string? organization, Func<RequestContext, ApiResult> handler)
    {
        var token = (TokenEntity)http.Items[SandboxMiddleware.CallerKey]!;
        if (scope is not null && !token.Scopes.Contains(scope))
        {
            return ApiResult.Message(StatusCodes.Status403Forbidden, $"Your access token doesn't have the {scope} scope");
        }

        var body = ReadBody(http, out var bodyError);
        if (bodyError is not null)
        {
            return bodyError;
        }

        lock (runtime.Store.Gate)
        {
            var context = new RequestContext { Http = http, Store = runtime.Store, Urls = runtime.Urls, Token = token, Body = body };
            if (organization is not null)
            {
                var org = runtime.Store.FindOrganization(organization);
                if (org is null || !Access.CanReach(token, org))
                {
                    return ApiResult.NotFound("organization");
                }

                context.Org = org;
            }

            return handler(context);
        }
    }

    private JsonObject ReadBody(HttpContext http, out ApiResult? error)
    {
        error = null;
        var bytes = http.Items[SandboxMiddleware.BodyKey] as byte[] ?? [];
        if (bytes.Length == 0 || HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            return [];
        }

        var contentType = http.Items[SandboxMiddleware.ContentTypeKey] as string;
        if (runtime.Options.RequireJsonContentType && !IsJson(contentType))
        {
            error = ApiResult.Message(StatusCodes.Status415UnsupportedMediaType,
                $"The request body must be JSON (Content-Type: application/json), not '{contentType ?? "none"}'. "
                + "The Buildkite REST API does not accept www-form-urlencoded or multipart bodies.");
            return [];
        }

        try
        {
            // A JSON array or scalar is not an object of parameters: Buildkite then sees no fields, and validation says so.
            return JsonNode.Parse(bytes, Formats.NodeOptions, Formats.DocumentOptions) as JsonObject ?? [];
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            error = ApiResult.Message(StatusCodes.Status400BadRequest, $"Problems parsing JSON: {e.Message}");
            return [];
        }
    }

    private static bool IsJson(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }

        var mediaType = contentType.Split(';')[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }
}
