using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Api;
using Kiteflow.Sandbox.Faulting;
using Kiteflow.Sandbox.Inspection;
using Kiteflow.Sandbox.RateLimiting;
using Kiteflow.Sandbox.State;
using Microsoft.AspNetCore.WebUtilities;

namespace Kiteflow.Sandbox.Hosting;

/// <summary>
/// What every API request goes through, in Buildkite's order: the request log, the body-size cap,
/// faults that strike before the work, authentication, both rate limits (headers on every answer, 429
/// when either is spent; a refused request changes nothing), the endpoint, and faults that strike after it.
/// The endpoint's answer is buffered so that an after-fault can still replace it, and so that any failure
/// becomes a JSON error rather than a broken or HTML answer.
/// </summary>
internal sealed class SandboxMiddleware(RequestDelegate next, SandboxRuntime runtime)
{
    public const string BodyKey = "kiteflow.sandbox.body";
    public const string ContentTypeKey = "kiteflow.sandbox.content-type";
    public const string CallerKey = "kiteflow.sandbox.caller";
    private const string DroppedKey = "kiteflow.sandbox.dropped";

    private const string ExceededWarning = "You have exceeded your API rate limit.";

    public async Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "/";
        if (path.StartsWith("/_sandbox", StringComparison.OrdinalIgnoreCase))
        {
            await InvokeControlAsync(http).ConfigureAwait(false);
            return;
        }

        var entry = NewEntry(http, path);
        runtime.Log.Add(entry);
        try
        {
            await InvokeApiAsync(http, path, entry).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested || runtime.Stopping.IsCancellationRequested)
        {
            http.Items[DroppedKey] = true;
            http.Abort();
        }
        finally
        {
            runtime.Log.Complete(entry, http.Items.ContainsKey(DroppedKey) ? null : http.Response.StatusCode, null);
        }
    }

    private async Task InvokeApiAsync(HttpContext http, string path, RequestLogEntry entry)
    {
        var method = http.Request.Method;
        var read = await ReadBodyAsync(http).ConfigureAwait(false);
        var token = Authenticate(http);
        var (orgKey, userKey) = RateLimitKeys(path, token);
        if (read is null)
        {
            SetRateLimitHeaders(http.Response, runtime.RateLimits.Peek(orgKey, userKey));
            await WriteAsync(http, ApiResult.Message(StatusCodes.Status413PayloadTooLarge,
                $"The request body is larger than the sandbox accepts ({runtime.Options.MaxRequestBodyBytes} bytes).")).ConfigureAwait(false);
            return;
        }

        if (read.Length > 0)
        {
            entry.Body = Truncate(read, runtime.Options.RequestLogBodyLimit, out var truncated);
            entry.BodyTruncated = truncated;
        }

        http.Items[BodyKey] = read;

        var before = runtime.Faults.Match(SandboxFaultWhen.Before, method, path);
        if (before is not null)
        {
            entry.Fault = before.Describe();
            if (!await ApplyFaultAsync(http, before, runtime.RateLimits.Peek(orgKey, userKey)).ConfigureAwait(false))
            {
                return;
            }
        }

        (RateLimitSnapshot Organization, RateLimitSnapshot User) limits;
        if (path == "/")
        {
            limits = runtime.RateLimits.Peek(orgKey, userKey);
            SetRateLimitHeaders(http.Response, limits);
        }
        else if (token is null)
        {
            limits = runtime.RateLimits.Peek(orgKey, null);
            SetRateLimitHeaders(http.Response, limits);
            await WriteAsync(http, ApiResult.Message(StatusCodes.Status401Unauthorized,
                "Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication")).ConfigureAwait(false);
            return;
        }
        else
        {
            var decision = runtime.RateLimits.Acquire(orgKey, userKey!);
            limits = (decision.Organization, decision.User);
            SetRateLimitHeaders(http.Response, limits);
            if (!decision.Allowed)
            {
                var exceeded = decision.ExceededScope == "rest_user" ? decision.User : decision.Organization;
                await WriteAsync(http, new ApiResult(StatusCodes.Status429TooManyRequests, new JsonObject
                {
                    ["message"] = $"You have exceeded your API rate limit. Please wait {exceeded.ResetSeconds} seconds before making more requests.",
                    ["scope"] = decision.ExceededScope,
                    ["limit"] = exceeded.Limit,
                    ["current"] = exceeded.Current,
                    ["reset"] = exceeded.ResetSeconds,
                })).ConfigureAwait(false);
                return;
            }

            http.Items[CallerKey] = token;
        }

        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await next(http).ConfigureAwait(false);
            if (buffer.Length == 0 && http.Response.StatusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)
            {
                // No route: answer as Buildkite does for an unknown path, in JSON.
                await WriteAsync(http, ApiResult.Message(StatusCodes.Status404NotFound, "Not Found")).ConfigureAwait(false);
            }
        }
        catch (Exception) when (!http.RequestAborted.IsCancellationRequested)
        {
            buffer.SetLength(0);
            ResetResponse(http, limits);
            await WriteAsync(http, ApiResult.Message(StatusCodes.Status500InternalServerError, "Internal Server Error")).ConfigureAwait(false);
        }
        finally
        {
            http.Response.Body = original;
        }

        var after = runtime.Faults.Match(SandboxFaultWhen.After, method, path);
        if (after is not null)
        {
            entry.Fault = after.Describe();
            var proceed = after.Rule.Action == SandboxFaultAction.Delay;
            if (!proceed)
            {
                buffer.SetLength(0);
                ResetResponse(http, limits);
            }

            if (!await ApplyFaultAsync(http, after, limits).ConfigureAwait(false))
            {
                return;
            }
        }

        http.Response.ContentLength = buffer.Length;
        buffer.Position = 0;
        await buffer.CopyToAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
    }

    private async Task InvokeControlAsync(HttpContext http)
    {
        try
        {
            var read = await ReadBodyAsync(http).ConfigureAwait(false);
            if (read is null)
            {
                await WriteAsync(http, ApiResult.Message(StatusCodes.Status413PayloadTooLarge, "The request body is too large.")).ConfigureAwait(false);
                return;
            }

            http.Items[BodyKey] = read;
            await next(http).ConfigureAwait(false);
            if (!http.Response.HasStarted && http.Response.StatusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)
            {
                await WriteAsync(http, ApiResult.Message(StatusCodes.Status404NotFound, "Not Found")).ConfigureAwait(false);
            }
        }
        catch (Exception) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
        {
            http.Response.Clear();
            await WriteAsync(http, ApiResult.Message(StatusCodes.Status500InternalServerError, "Internal Server Error")).ConfigureAwait(false);
        }
    }

    /// <summary>Applies a fault; returns whether the request should then go on normally.</summary>
    private async Task<bool> ApplyFaultAsync(HttpContext http, FiredFault fault, (RateLimitSnapshot Organization, RateLimitSnapshot User) limits)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, runtime.Stopping);
        var rule = fault.Rule;
        if (rule.DelayMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(rule.DelayMs), runtime.Options.TimeProvider, linked.Token).ConfigureAwait(false);
        }

        switch (rule.Action)
        {
            case SandboxFaultAction.Delay:
                return true;
            case SandboxFaultAction.Drop:
                http.Items[DroppedKey] = true;
                http.Abort();
                return false;
            case SandboxFaultAction.Hang:
                http.Items[DroppedKey] = true;
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, runtime.Options.TimeProvider, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The client gave up or the sandbox is stopping.
                }

                http.Abort();
                return false;
            default:
                SetRateLimitHeaders(http.Response, limits);
                var reason = ReasonPhrases.GetReasonPhrase(rule.Status);
                await WriteAsync(http, ApiResult.Message(rule.Status, reason.Length > 0 ? reason : "Sandbox fault")).ConfigureAwait(false);
                return false;
        }
    }

    private void ResetResponse(HttpContext http, (RateLimitSnapshot Organization, RateLimitSnapshot User) limits)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.Headers.Clear();
        SetRateLimitHeaders(http.Response, limits);
    }

    private static Task WriteAsync(HttpContext http, ApiResult result) => result.ExecuteAsync(http);

    /// <summary>Reads the whole body up to the cap; <see langword="null"/> when it is larger.</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpContext http)
    {
        var max = runtime.Options.MaxRequestBodyBytes;
        if (http.Request.ContentLength > max)
        {
            return null;
        }

        using var memory = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (memory.Length + n > max)
                {
                    return null;
                }

                memory.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        http.Items[ContentTypeKey] = http.Request.ContentType;
        return memory.ToArray();
    }

    private TokenEntity? Authenticate(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var presented = header["Bearer ".Length..].Trim();
        if (presented.Length == 0)
        {
            return null;
        }

        lock (runtime.Store.Gate)
        {
            var token = runtime.Store.FindToken(presented);
            return token is null || token.Revoked || token.ExpiresAt <= runtime.Store.Now ? null : token;
        }
    }

    /// <summary>
    /// The organization a request counts against: the one in its path when the token reaches it, else the
    /// token's first organization. The user is the token's owner, so a user's tokens share one budget.
    /// </summary>
    private (string Organization, string? User) RateLimitKeys(string path, TokenEntity? token)
    {
        const string prefix = "/v2/organizations/";
        string? fromPath = null;
        if (path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            var rest = path[prefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            fromPath = Uri.UnescapeDataString(slash < 0 ? rest : rest[..slash]);
        }

        lock (runtime.Store.Gate)
        {
            var organizations = runtime.Store.Organizations;
            var reachable = token is null ? organizations : organizations.Where(o => Access.CanReach(token, o)).ToList();
            var org = reachable.Find(o => string.Equals(o.Slug, fromPath, StringComparison.OrdinalIgnoreCase))
                ?? reachable.FirstOrDefault() ?? organizations.FirstOrDefault();
            return (org?.Slug ?? "-", token?.User.Id.ToString());
        }
    }

    private static void SetRateLimitHeaders(HttpResponse response, (RateLimitSnapshot Organization, RateLimitSnapshot User) limits)
    {
        var (org, user) = limits;
        var headers = response.Headers;
        headers["RateLimit-Scope"] = "rest";
        headers["RateLimit-Remaining"] = Number(org.Remaining);
        headers["RateLimit-Limit"] = Number(org.Limit);
        headers["RateLimit-Reset"] = Number(org.ResetSeconds);
        headers["RateLimit-User-Scope"] = "rest_user";
        headers["RateLimit-User-Remaining"] = Number(user.Remaining);
        headers["RateLimit-User-Limit"] = Number(user.Limit);
        headers["RateLimit-User-Reset"] = Number(user.ResetSeconds);
        if (org.Current > org.Limit)
        {
            headers["RateLimit-Warning"] = ExceededWarning;
        }

        if (user.Current > user.Limit)
        {
            headers["RateLimit-User-Warning"] = ExceededWarning;
        }
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private RequestLogEntry NewEntry(HttpContext http, string path)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in http.Request.Headers)
        {
            headers[name] = name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) ? Redact(values.ToString()) : values.ToString();
        }

        return new RequestLogEntry
        {
            Sequence = runtime.Log.NextSequence(),
            Time = runtime.Options.TimeProvider.GetUtcNow(),
            Method = http.Request.Method,
            Path = path,
            Query = http.Request.QueryString.Value ?? "",
            Headers = headers,
        };
    }

    private static string Redact(string authorization)
    {
        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? "[REDACTED]" : authorization[..space] + " [REDACTED]";
    }

    private static string Truncate(byte[] body, int limit, out bool truncated)
    {
        var text = Encoding.UTF8.GetString(body);
        truncated = text.Length > limit;
        return truncated ? text[..limit] : text;
    }
}
