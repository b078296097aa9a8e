using Microsoft.AspNetCore.Mvc;
using System.Text.Json;
using Kiteflow.Server.Observability;
using Microsoft.AspNetCore.Diagnostics;

namespace Kiteflow.Server.Hosting;

/// <summary>
/// Turns what escapes a handler into problem details, never a stack trace: a body that is not valid JSON names the
/// field where it broke (<c>errors</c> keyed by the JSON path), other bad requests keep their status, and anything
/// else is a 500 that points at the server log.
/// </summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails details;
        if (exception is BadHttpRequestException bad)
        {
            httpContext.Response.StatusCode = bad.StatusCode;
            if (bad.InnerException is JsonException json)
            {
                var field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
                details = new HttpValidationProblemDetails(new Dictionary<string, string[]>
                {
                    [field] = [$"The body is not the JSON this endpoint reads at {json.Path ?? "$"} (line {json.LineNumber + 1}): check the value's type and the syntax."],
                })
                {
                    Title = "The request is not valid",
                    Status = bad.StatusCode,
                };
            }
            else
            {
                details = new ProblemDetails { Title = "Bad request", Detail = bad.Message, Status = bad.StatusCode };
            }
        }
        else if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true;
        }
        else
        {
            Log.Unhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            httpContext.Response.StatusCode = StatusCodes.Status500InternalServerError;
            details = new ProblemDetails { Title = "Unexpected error", Detail = "The server could not complete the request; its log says why.", Status = 500 };
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details, Exception = exception }).ConfigureAwait(false);
    }
}
