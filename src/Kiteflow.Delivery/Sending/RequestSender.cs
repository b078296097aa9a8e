using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Delivery.Pacing;

namespace Kiteflow.Delivery.Sending;

/// <summary>
/// Makes one HTTP attempt of a planned request and classifies what happened. It never throws for a
/// network or HTTP failure: every failure is an <see cref="AttemptOutcome"/>. The token is added here
/// and nowhere else, and never appears in an outcome.
/// </summary>
internal sealed class RequestSender
{
    private static readonly string[] KeptHeaders =
    [
        "RateLimit-Scope", "RateLimit-Remaining", "RateLimit-Limit", "RateLimit-Reset",
        "RateLimit-User-Scope", "RateLimit-User-Remaining", "RateLimit-User-Limit", "RateLimit-User-Reset",
        "RateLimit-Warning", "RateLimit-User-Warning", "Location",
    ];

    private readonly HttpClient _client;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;

    private readonly bool _keepSuccessDetail;

    /// <param name="client">The client to send with.</param>
    /// <param name="token">The API token, put on every request.</param>
    /// <param name="timeout">How long one attempt may take.</param>
    /// <param name="time">The clock.</param>
    /// <param name="keepSuccessDetail">Whether a success's body and headers are kept (for response records); failures always keep theirs.</param>
    public RequestSender(HttpClient client, string token, TimeSpan timeout, TimeProvider time, bool keepSuccessDetail = true)
    {
        _client = client;
        _keepSuccessDetail = keepSuccessDetail;
        _authorization = new AuthenticationHeaderValue("Bearer", token);
        _timeout = timeout;
        _time = time;
    }

    public Task<AttemptOutcome> SendAsync(PlannedRequest request, int attempt, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
        if (request.Body is { } body)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType!);
        }

        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return SendAsync(message, attempt, cancellationToken, _keepSuccessDetail);
    }

    /// <summary>A GET of <paramref name="url"/> with the token (the create-build lookup).</summary>
    public Task<AttemptOutcome> GetAsync(string url, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, url), 1, cancellationToken, keepDetail: true);

    private async Task<AttemptOutcome> SendAsync(HttpRequestMessage message, int attempt, CancellationToken cancellationToken, bool? keepDetail = null)
    {
        using (message)
        {
            message.Headers.Authorization = _authorization;
            message.Headers.Accept.ParseAdd("application/json");
            var sentAt = _time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();

            // The attempt's own timeout, on the injected clock, kept apart from the caller's cancellation so
            // a timeout can be told from a stop.
            using var timeout = new CancellationTokenSource(_timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                var kind = status switch
                {
                    >= 200 and < 300 => AttemptKind.Success,
                    429 => AttemptKind.RateLimited,
                    >= 500 => AttemptKind.ServerError,
                    _ => AttemptKind.Refused,
                };
                if (kind == AttemptKind.Success && keepDetail == false)
                {
                    // Nobody reads a success's body or headers here: skip decoding and parsing them.
                    return new AttemptOutcome(kind, attempt, sentAt, Stopwatch.GetElapsedTime(started)) { Status = status, RateLimits = RateLimitHeaders.From(response.Headers) };
                }

                var text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
                var isJson = response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true && JsonText.IsValid(text);
                return new AttemptOutcome(kind, attempt, sentAt, Stopwatch.GetElapsedTime(started))
                {
                    Status = status,
                    Headers = KeepHeaders(response),
                    Body = text.Length == 0 ? null : text,
                    BodyIsJson = isJson,
                    RateLimits = kind == AttemptKind.RateLimited ? RateLimitHeaders.From(response.Headers).AsRefusal(isJson ? text : null) : RateLimitHeaders.From(response.Headers),
                    Error = kind == AttemptKind.Success ? null : $"{status} {response.ReasonPhrase}: {Summarize(text, isJson)}",
                };
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return new AttemptOutcome(AttemptKind.Ambiguous, attempt, sentAt, Stopwatch.GetElapsedTime(started))
                {
                    Error = $"no response within {_timeout.TotalSeconds:0.#} s (delivery.timeoutSeconds); the request may have been processed",
                };
            }
            catch (HttpRequestException e) when (NothingWasSent(e))
            {
                return new AttemptOutcome(AttemptKind.NotSent, attempt, sentAt, Stopwatch.GetElapsedTime(started))
                {
                    Error = $"could not connect to {message.RequestUri?.GetLeftPart(UriPartial.Authority)}: {Describe(e)}",
                };
            }
            catch (HttpRequestException e)
            {
                return new AttemptOutcome(AttemptKind.Ambiguous, attempt, sentAt, Stopwatch.GetElapsedTime(started))
                {
                    Error = $"the connection failed after the request was sent ({Describe(e)}); the request may have been processed",
                };
            }
        }
    }

    /// <summary>Only a failure to connect proves nothing was written; anything later may have reached the server.</summary>
    private static bool NothingWasSent(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
        || e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable };

    private static string Describe(HttpRequestException e) =>
        e.InnerException is { } inner && inner is not HttpRequestException ? $"{e.HttpRequestError}: {inner.Message}" : $"{e.HttpRequestError}: {e.Message}";

    private static List<KeyValuePair<string, string>> KeepHeaders(HttpResponseMessage response)
    {
        var kept = new List<KeyValuePair<string, string>>();
        foreach (var name in KeptHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values))
            {
                kept.Add(new(name, string.Join(", ", values)));
            }
        }

        if (response.Content.Headers.ContentType is { } contentType)
        {
            kept.Add(new("Content-Type", contentType.ToString()));
        }

        return kept;
    }

    /// <summary>Buildkite's message (and validation errors) from an error body, or the start of the body.</summary>
    internal static string Summarize(string text, bool isJson)
    {
        if (isJson)
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
            {
                var builder = new StringBuilder(message.GetString());
                if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                {
                    foreach (var error in errors.EnumerateArray())
                    {
                        builder.Append(error.ValueKind == JsonValueKind.Object && error.TryGetProperty("field", out var field) && error.TryGetProperty("code", out var code)
                            ? $"; {field}: {code}"
                            : $"; {error}");
                    }
                }

                return builder.ToString();
            }
        }

        var trimmed = text.Trim();
        return trimmed.Length == 0 ? "(empty body)" : trimmed.Length > 200 ? trimmed[..200] + "…" : trimmed;
    }
}
