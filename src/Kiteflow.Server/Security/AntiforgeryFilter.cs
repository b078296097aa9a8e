using Microsoft.AspNetCore.Antiforgery;

namespace Kiteflow.Server.Security;

/// <summary>
/// Requires the antiforgery token (header <c>X-CSRF-TOKEN</c>, from <c>GET /api/v1/session</c>) on every request that
/// changes state and is authenticated by the session cookie. Bearer API keys are not sent by browsers on their own,
/// so they need no token.
/// </summary>
internal sealed class AntiforgeryFilter(IAntiforgery antiforgery) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && !HttpMethods.IsOptions(http.Request.Method)
            && Actors.IsSession(http.User))
        {
            try
            {
                await antiforgery.ValidateRequestAsync(http).ConfigureAwait(false);
            }
            catch (AntiforgeryValidationException)
            {
                return TypedResults.Problem(
                    title: "Missing or invalid antiforgery token",
                    detail: $"A request made with the session cookie that changes something needs the token from GET /api/v1/session in the {AuthSchemes.AntiforgeryHeader} header.",
                    statusCode: StatusCodes.Status403Forbidden);
            }
        }

        return await next(context).ConfigureAwait(false);
    }
}
