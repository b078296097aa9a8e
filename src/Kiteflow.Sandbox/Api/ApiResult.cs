using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Api;

/// <summary>An API answer: a status and a JSON body (none for 204), written by the sandbox itself.</summary>
internal sealed class ApiResult(int status, JsonNode? body) : IResult
{
    public int Status { get; } = status;

    public JsonNode? Body { get; } = body;

    public Dictionary<string, string> Headers { get; } = [];

    public static ApiResult Ok(JsonNode body) => new(StatusCodes.Status200OK, body);

    public static ApiResult Created(JsonNode body) => new(StatusCodes.Status201Created, body);

    public static ApiResult Accepted(JsonNode body) => new(StatusCodes.Status202Accepted, body);

    public static ApiResult NoContent() => new(StatusCodes.Status204NoContent, null);

    public static ApiResult Message(int status, string message) => new(status, new JsonObject { ["message"] = message });

    public static ApiResult NotFound(string what) => Message(StatusCodes.Status404NotFound, $"No {what} found");

    public static ApiResult Forbidden() => Message(StatusCodes.Status403Forbidden, "Forbidden");

    /// <summary>Builds' and pipelines' 422: <c>{"message":"Validation Failed","errors":[{"field","code"}]}</c>.</summary>
    public static ApiResult ValidationFailed(IEnumerable<(string Field, string Code)> errors)
    {
        var array = new JsonArray();
        foreach (var (field, code) in errors)
        {
            array.Add(new JsonObject { ["field"] = field, ["code"] = code });
        }

        return new(StatusCodes.Status422UnprocessableEntity, new JsonObject { ["message"] = "Validation Failed", ["errors"] = array });
    }

    /// <summary>Teams', clusters', queues' and schedules' 422: <c>{"message":"Validation failed: reason, reason"}</c>.</summary>
    public static ApiResult ValidationMessage(IEnumerable<string> reasons) =>
        Message(StatusCodes.Status422UnprocessableEntity, "Validation failed: " + string.Join(", ", reasons));

    public static ApiResult Unprocessable(string message) => Message(StatusCodes.Status422UnprocessableEntity, message);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = Status;
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        if (Body is null)
        {
            return;
        }

        response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(response.Body, Formats.Writer);
        Body.WriteTo(writer);
        await writer.FlushAsync(httpContext.RequestAborted).ConfigureAwait(false);
    }
}
