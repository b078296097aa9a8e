using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.Hosting;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>The unauthenticated root, the access token, the user, organizations and their rate limit.</summary>
internal static class AccountEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ApiRunner api, SandboxRuntime runtime)
    {
        routes.MapGet("/", () => ApiResult.Ok(new JsonObject
        {
            ["message"] = "🛠",
            ["timestamp"] = runtime.Options.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
        }));
        api.Map(routes, "GET", "/access-token", null, c => ApiResult.Ok(Render.AccessToken(c.Token)));
        api.Map(routes, "DELETE", "/access-token", null, c =>
        {
            c.Token.Revoked = true;
            return ApiResult.NoContent();
        });
        api.Map(routes, "GET", "/user", Scopes.ReadUser, c => ApiResult.Ok(c.Render.User(c.User)));
        api.Map(routes, "GET", "/organizations", Scopes.ReadOrganizations, c =>
            Pagination.Page(c, c.Store.Organizations.Where(o => Access.CanReach(c.Token, o)).ToList(), c.Render.Organization));
        api.Map(routes, "GET", "/organizations/{org}", Scopes.ReadOrganizations, c => ApiResult.Ok(c.Render.Organization(c.Org)));
        api.Map(routes, "GET", "/organizations/{org}/rate_limit", Scopes.ReadAccounts, c => RateLimit(c, runtime));
    }

    private static ApiResult RateLimit(RequestContext c, SandboxRuntime runtime)
    {
        var (org, _) = runtime.RateLimits.Peek(c.Org.Slug, null);
        var now = c.Now;
        var graphqlReset = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute / 5 * 5, 0, TimeSpan.Zero).AddMinutes(5);
        return ApiResult.Ok(new JsonObject
        {
            ["scopes"] = new JsonObject
            {
                ["rest"] = new JsonObject
                {
                    ["limit"] = org.Limit,
                    ["current"] = org.Current,
                    ["reset"] = org.ResetSeconds,
                    ["reset_at"] = org.ResetAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                    ["enforced"] = true,
                },
                ["graphql"] = new JsonObject
                {
                    // The sandbox has no GraphQL API: its budget is reported untouched.
                    ["limit"] = 50000,
                    ["current"] = 0,
                    ["reset"] = (int)Math.Ceiling((graphqlReset - now).TotalSeconds),
                    ["reset_at"] = graphqlReset.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                    ["enforced"] = true,
                },
            },
        });
    }
}
