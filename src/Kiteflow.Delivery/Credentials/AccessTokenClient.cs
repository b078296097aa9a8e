using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// Asks Buildkite what a credential's token is: <c>GET {apiBase}/v2/access-token</c>, which needs no scope and
/// answers the token's scopes, expiry and user. <c>kiteflow credentials check</c> shows it; delivery uses it as a
/// pre-flight check that the token works and holds the scope the endpoint needs.
/// </summary>
internal sealed class AccessTokenClient
{
    /// <summary>The description of a token is a few hundred bytes; more than this is not Buildkite answering.</summary>
    private const int MaxBodyBytes = 1024 * 1024;

    private const int MaxQuotedChars = 300;

    private readonly HttpClient _httpClient;

    /// <param name="httpClient">The client to send with; its timeout applies. Redirects, if it follows them, drop the Authorization header.</param>
    public AccessTokenClient(HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        _httpClient = httpClient;
    }

    /// <summary>The access-token URL under an API base, e.g. <c>https://api.buildkite.com/v2/access-token</c>.</summary>
    public static Uri AccessTokenUrl(Uri apiBase)
    {
        ArgumentNullException.ThrowIfNull(apiBase);
        return new Uri(apiBase.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/v2/access-token");
    }

    /// <summary>
    /// <see cref="GetAsync"/>, waiting out a spent rate limit: a 429 says nothing about the token (an earlier run, another
    /// destination or another client spent the window), so the check is made again after the reset the answer names —
    /// at most <paramref name="checks"/> times, and only for resets within <paramref name="longestWait"/>.
    /// </summary>
    /// <param name="credential">The credential.</param>
    /// <param name="time">The clock the waits use.</param>
    /// <param name="checks">How many checks at most, the first included.</param>
    /// <param name="longestWait">The longest reset waited for; a later one is answered as it is.</param>
    /// <param name="waiting">Told of each wait before it starts.</param>
    /// <param name="cancellationToken">Cancels the check and its waits.</param>
    public async Task<AccessTokenResult> GetWaitingOutRateLimitAsync(Credential credential, TimeProvider time, int checks, TimeSpan longestWait, Action<TimeSpan>? waiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var result = await GetAsync(credential, cancellationToken).ConfigureAwait(false);
        for (var check = 1; result.Status == AccessTokenStatus.RateLimited && check < checks && result.RetryAfter is { } reset && reset <= longestWait; check++)
        {
            waiting?.Invoke(reset);
            await Task.Delay(reset + RateLimitMargin, time, cancellationToken).ConfigureAwait(false);
            result = await GetAsync(credential, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>Past the reset a 429 names: its seconds are whole, and the server's clock is not ours.</summary>
    private static readonly TimeSpan RateLimitMargin = TimeSpan.FromMilliseconds(250);

    /// <summary>Asks about <paramref name="credential"/>'s token at its API base.</summary>
    /// <returns>The outcome, for every answer and for no answer; only cancellation by <paramref name="cancellationToken"/> throws.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<AccessTokenResult> GetAsync(Credential credential, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var url = AccessTokenUrl(credential.ApiBase);
        var where = credential.ApiBase.OriginalString;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        credential.Authorize(request);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await _httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
            return Interpret(response, body, where, credential);
        }
        catch (HttpRequestException e)
        {
            return Result(AccessTokenStatus.Unreachable, null, $"{where} could not be reached: {e.Message}", credential);
        }
        catch (IOException e)
        {
            return Result(AccessTokenStatus.Unreachable, null, $"the connection to {where} broke while reading the answer: {e.Message}", credential);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient reports its own timeout as a cancellation the caller did not ask for.
            return Result(AccessTokenStatus.Unreachable, null, $"{where} did not answer within {_httpClient.Timeout.TotalSeconds:0.#} s.", credential);
        }
    }

    private static AccessTokenResult Interpret(HttpResponseMessage response, byte[]? body, string where, Credential credential)
    {
        var status = (int)response.StatusCode;
        if (body is null)
        {
            return Result(AccessTokenStatus.UnexpectedResponse, status, $"{where} answered {status} with a body over {MaxBodyBytes / 1024 / 1024} MiB: that is not Buildkite's API; check the API base.", credential);
        }

        var said = ServerMessage(body);
        var suffix = said is null ? "." : $": \"{said}\"";
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK:
                return ParseTokenInfo(body) is { } info
                    ? new AccessTokenResult(AccessTokenStatus.Valid, info, status, "the token is valid.")
                    : Result(AccessTokenStatus.UnexpectedResponse, status, $"{where} answered 200 but not with a token's description (uuid, scopes): is the API base a Buildkite API?", credential);
            case HttpStatusCode.Unauthorized:
                return Result(AccessTokenStatus.Refused, status, $"the token was refused (revoked, expired or mistyped): {where} answered 401{suffix}", credential);
            case HttpStatusCode.Forbidden:
                return Result(AccessTokenStatus.Forbidden, status, $"the token is known but the request was forbidden: {where} answered 403{suffix}", credential);
            case HttpStatusCode.TooManyRequests:
                var reset = ResetSeconds(response, body);
                var wait = reset is null ? "wait for the rate-limit window to reset" : $"wait {reset} s";
                return Result(AccessTokenStatus.RateLimited, status, $"the rate limit is spent, so the token was not checked: {where} answered 429{suffix} {char.ToUpperInvariant(wait[0])}{wait[1..]} and try again.", credential) with
                {
                    RetryAfter = reset is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                };
            default:
                return Result(AccessTokenStatus.UnexpectedResponse, status, $"{where} answered {status} {response.ReasonPhrase}{suffix}", credential);
        }
    }

    private static AccessTokenResult Result(AccessTokenStatus status, int? httpStatus, string message, Credential credential) =>
        new(status, null, httpStatus, credential.Redact(message));

    /// <summary>The body, or null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    /// <summary>Buildkite's error <c>message</c>, or the start of a body that is not JSON, on one line; null when empty.</summary>
    private static string? ServerMessage(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        string text;
        try
        {
            using var document = JsonDocument.Parse(body);
            text = document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String
                    ? message.GetString()!
                    : Encoding.UTF8.GetString(body);
        }
        catch (JsonException)
        {
            text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, MaxQuotedChars * 4));
        }

        var line = string.Join(' ', text.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        line = new string([.. line.Select(c => char.IsControl(c) ? '?' : c)]);
        return line.Length == 0 ? null : line.Length > MaxQuotedChars ? line[..MaxQuotedChars] + "…" : line;
    }

    /// <summary>Seconds until the spent limit (organization or user) resets, when the answer says.</summary>
    private static int? ResetSeconds(HttpResponseMessage response, byte[] body)
    {
        // Buildkite's 429 names the limit that is spent and its reset: the other limit's reset, often later,
        // is no reason to wait.
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("reset", out var reset)
                && reset.ValueKind == JsonValueKind.Number
                && reset.TryGetInt32(out var fromBody)
                && fromBody >= 0)
            {
                return fromBody;
            }
        }
        catch (JsonException)
        {
            // Not Buildkite's body: the headers say it.
        }

        // Else the headers: the reset of a limit that shows nothing left, or failing that the longest.
        int? spent = null;
        int? longest = null;
        foreach (var (resetName, remainingName) in (ReadOnlySpan<(string, string)>)[("RateLimit-Reset", "RateLimit-Remaining"), ("RateLimit-User-Reset", "RateLimit-User-Remaining")])
        {
            if (Header(response, resetName) is { } seconds)
            {
                longest = Math.Max(longest ?? 0, seconds);
                if (Header(response, remainingName) == 0)
                {
                    spent = Math.Max(spent ?? 0, seconds);
                }
            }
        }

        return spent ?? longest;
    }

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>The token's description, or null when the body is not one (no uuid or no scopes array).</summary>
    internal static TokenInfo? ParseTokenInfo(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || String(root, "uuid") is not { } uuid
                || !root.TryGetProperty("scopes", out var scopesElement)
                || scopesElement.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var scopes = scopesElement.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!).ToArray();
            var user = root.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
            return new TokenInfo(
                uuid,
                scopes,
                String(root, "description"),
                Time(root, "created_at"),
                Time(root, "expires_at"),
                user.ValueKind == JsonValueKind.Object ? String(user, "name") : null,
                user.ValueKind == JsonValueKind.Object ? String(user, "email") : null);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Time(JsonElement element, string name) =>
        BuildkiteTime.TryParse(String(element, name), out var value) ? value : null;
}
