using System.Buffers;
using System.Diagnostics;
using Kiteflow.Core.Records;
using Kiteflow.Server.Datasets;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>
/// <c>POST /ingest/{dataset}</c>: records from any HTTP client, authenticated by the dataset's ingest key (not a login).
/// The answer comes once the records are durable; an <c>Idempotency-Key</c> makes a retry append nothing twice.
/// </summary>
internal static class IngestEndpoints
{
    /// <summary>The header a key can travel in instead of <c>Authorization: Bearer</c>.</summary>
    public const string KeyHeader = "X-Kiteflow-Key";

    /// <summary>The optional HMAC-SHA256 of the body under the ingest key: <c>sha256=&lt;hex&gt;</c>.</summary>
    public const string SignatureHeader = "X-Kiteflow-Signature";

    /// <summary>Makes a retried request append nothing twice.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/ingest/{dataset}", IngestAsync)
            .AllowAnonymous()
            .WithTags("Ingest")
            .WithSummary("Append records (one object, an array, or JSON Lines) to a dataset with its ingest key; answers once they are durable.");
    }

    private static async Task<Results<Ok<IngestAnswer>, ProblemHttpResult, ValidationProblem>> IngestAsync(
        string dataset, HttpContext http, IKiteflowStore store, DatasetAppender appender, ServerOptions options, KiteflowMetrics metrics, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var logger = loggers.CreateLogger("Kiteflow.Server.Ingest");
        var row = await store.Datasets.GetAsync(dataset, cancellationToken).ConfigureAwait(false);
        var key = PresentedKey(http.Request);

        // An unknown dataset and a wrong key get the same answer, so that the API tells nothing about names to a caller without a key.
        if (row is null || key is null || !Secrets.Matches(key, row.IngestKeyHash))
        {
            Log.IngestRefused(logger, dataset, key is null ? "no ingest key" : "wrong ingest key or unknown dataset");
            metrics.Ingested(dataset, "refused", 0, 0, Stopwatch.GetElapsedTime(started));
            return Unauthorized($"Send the dataset's ingest key as 'Authorization: Bearer kfi_…' or '{KeyHeader}: kfi_…'.");
        }

        var idempotencyKey = http.Request.Headers[IdempotencyHeader].ToString();
        if (idempotencyKey.Length > 255 || idempotencyKey.Any(c => c is < ' ' or > '~'))
        {
            metrics.Ingested(dataset, "invalid", 0, 0, Stopwatch.GetElapsedTime(started));
            return Problems.Invalid(IdempotencyHeader, "The Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID is a good choice).");
        }

        var (declared, formatProblem) = BodyFormats.Declared(http.Request.Query["format"], http.Request.ContentType);
        if (declared is null)
        {
            metrics.Ingested(dataset, "invalid", 0, 0, Stopwatch.GetElapsedTime(started));
            return Problems.Invalid("format", formatProblem!);
        }

        if (http.Request.ContentLength > options.IngestMaxBodyBytes)
        {
            return TooLarge(options);
        }

        var (body, length) = await ReadBodyAsync(http.Request, options.IngestMaxBodyBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            if (body is null)
            {
                return TooLarge(options);
            }

            var signature = http.Request.Headers[SignatureHeader].ToString();
            if (signature.Length > 0 ? !Secrets.SignatureMatches(signature, body.AsSpan(0, length), row.IngestKeyHash) : row.RequireSignature)
            {
                Log.IngestRefused(logger, dataset, signature.Length > 0 ? "wrong signature" : "signature required");
                metrics.Ingested(dataset, "refused", 0, 0, Stopwatch.GetElapsedTime(started));
                return Unauthorized(signature.Length > 0
                    ? $"The {SignatureHeader} header is not the HMAC-SHA256 of the body under the ingest key; send sha256=<lower-case hex of HMAC-SHA256(key, body)>."
                    : $"This dataset requires the {SignatureHeader} header: sha256=<lower-case hex of HMAC-SHA256(key, body)>.");
            }

            if (body.AsSpan(0, length).IndexOfAnyExcept(" \t\r\n"u8) < 0)
            {
                metrics.Ingested(dataset, "invalid", 0, 0, Stopwatch.GetElapsedTime(started));
                return Problems.Invalid("body", "The body is empty; send one JSON object, an array of them, or JSON Lines.");
            }

            var (format, wrap) = BodyFormats.Refine(declared.Value, body.AsSpan(0, length), headIsWhole: true);
            if (wrap)
            {
                var wrapped = new byte[length + 2];
                wrapped[0] = (byte)'[';
                body.AsSpan(0, length).CopyTo(wrapped.AsSpan(1));
                wrapped[^1] = (byte)']';
                ArrayPool<byte>.Shared.Return(body);
                body = null;
                return await AppendAsync(row, wrapped, wrapped.Length, format, idempotencyKey, http, appender, metrics, logger, started, cancellationToken).ConfigureAwait(false);
            }

            return await AppendAsync(row, body, length, format, idempotencyKey, http, appender, metrics, logger, started, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }
    }

    private static async Task<Results<Ok<IngestAnswer>, ProblemHttpResult, ValidationProblem>> AppendAsync(
        DatasetRow row, byte[] body, int length, InputFormat format, string idempotencyKey, HttpContext http, DatasetAppender appender, KiteflowMetrics metrics, ILogger logger, long started, CancellationToken cancellationToken)
    {
        IngestOutcome outcome;
        try
        {
            outcome = await appender.IngestAsync(row, body, length, format, idempotencyKey.Length > 0 ? idempotencyKey : null, cancellationToken).ConfigureAwait(false);
        }
        catch (InputException e)
        {
            metrics.Ingested(row.Name, "invalid", 0, 0, Stopwatch.GetElapsedTime(started));
            return Problems.Invalid("body", e.Message);
        }
        catch (StoreConflictException e) when (e.Conflict == StoreConflict.NotFound)
        {
            return Unauthorized("The dataset was deleted.");
        }

        var result = outcome.Result;
        Log.Ingested(logger, row.Name, result.Count, result.FirstOffset, outcome.Rejected, result.Replayed);
        metrics.Ingested(row.Name, result.Replayed ? "replayed" : "appended", result.Replayed ? 0 : result.Count, result.Replayed ? 0 : outcome.Rejected, Stopwatch.GetElapsedTime(started));
        if (result.Replayed)
        {
            http.Response.Headers["Idempotent-Replayed"] = "true";
        }

        if (result.Count == 0 && outcome.Rejected > 0)
        {
            return TypedResults.Problem(
                title: "No record could be read",
                detail: $"Every item of the body was rejected ({outcome.Rejected}); nothing was appended. The rejections say why, with their lines.",
                statusCode: StatusCodes.Status422UnprocessableEntity,
                extensions: new Dictionary<string, object?> { ["rejected"] = outcome.Rejected, ["rejections"] = outcome.Rejections });
        }

        return TypedResults.Ok(new IngestAnswer(
            row.Name,
            result.FirstOffset,
            result.Count,
            result.Count > 0 ? result.FirstOffset + result.Count - 1 : null,
            outcome.Rejected,
            [.. outcome.Rejections],
            result.Replayed));
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        var header = request.Headers[KeyHeader].ToString().Trim();
        return header.Length > 0 ? header : null;
    }

    /// <summary>The body in a pooled buffer (return it), or null when it is longer than <paramref name="limit"/>.</summary>
    private static async Task<(byte[]? Body, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, request.ContentLength is { } known ? known + 1 : 64 * 1024));
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }

                var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, buffer.Length * 2L));
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, 0);
            }
        }

        return (buffer, length);
    }

    private static ProblemHttpResult Unauthorized(string detail) =>
        Problems.Status(StatusCodes.Status401Unauthorized, "Ingest key refused", detail);

    private static ProblemHttpResult TooLarge(ServerOptions options) =>
        Problems.Status(StatusCodes.Status413PayloadTooLarge, "The body is too large", $"An ingest request holds at most {options.IngestMaxBodyBytes:N0} bytes; send the records in smaller requests, or upload them as a file to /api/v1/datasets/{{name}}/records.");

    /// <summary>What an ingest request appended: records got the offsets firstOffset … lastOffset, in the order of the body's readable items.</summary>
    internal sealed record IngestAnswer(string Dataset, long FirstOffset, int Count, long? LastOffset, int Rejected, RejectionSummary[] Rejections, bool Replayed);
}
