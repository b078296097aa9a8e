using Kiteflow.Server.Audit;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace Kiteflow.Server.Endpoints;

/// <summary><c>/api/v1/session</c>: log in (cookie), who am I (with the antiforgery token), log out, change the password.</summary>
internal static class SessionEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/session").WithTags("Session");
        group.MapPost("/", LoginAsync).AllowAnonymous().WithSummary("Log in with a user name and password; sets the session cookie.");
        group.MapGet("/", WhoAmI).WithSummary("Who the request acts as, and the antiforgery token for cookie requests that change something.");
        group.MapDelete("/", LogoutAsync).WithSummary("Log out (ends the session cookie).");
        group.MapPut("/password", ChangePasswordAsync).WithSummary("Change the logged-in user's password.");
    }

    private static async Task<Results<Ok<SessionInfo>, ValidationProblem, ProblemHttpResult>> LoginAsync(
        LoginRequest request, HttpContext http, IKiteflowStore store, LoginThrottle throttle, IAntiforgery antiforgery,
        IAuditLog audit, KiteflowMetrics metrics, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>();
        if (string.IsNullOrWhiteSpace(request.User))
        {
            errors.Add("user", "Give the user name, e.g. admin.");
        }

        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "Give the password.");
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var logger = loggers.CreateLogger("Kiteflow.Server.Session");
        var name = request.User!.Trim();
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.Refusal(name, address) is { } wait)
        {
            Log.LoginThrottled(logger, name, address);
            metrics.LoginFailed("throttled");
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Status(StatusCodes.Status429TooManyRequests, "Too many failed logins", $"Logins for this user or from this address are paused after repeated failures; try again in {Math.Ceiling(wait.TotalSeconds):0} s.");
        }

        var user = await store.Users.GetAsync(name, cancellationToken).ConfigureAwait(false);
        var hasher = new PasswordHasher<UserRow>();

        // An unknown user is checked against a throw-away hash so that both failures take the same time.
        var verdict = hasher.VerifyHashedPassword(user!, user?.PasswordHash ?? UnknownUserHash, request.Password!);
        if (user is null || verdict == PasswordVerificationResult.Failed)
        {
            throttle.Failed(name, address);
            metrics.LoginFailed("wrong-password");
            Log.LoginFailed(logger, name, address);
            await audit.RecordAsync(name, "session.login-failed", "session", name, new() { ["address"] = address }, cancellationToken).ConfigureAwait(false);
            return Problems.Status(StatusCodes.Status401Unauthorized, "Login failed", "The user name or password is wrong.");
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await store.Users.SetPasswordHashAsync(user.Id, hasher.HashPassword(user, request.Password!), cancellationToken).ConfigureAwait(false);
        }

        var principal = Actors.Principal(user.Id, user.Name, user.Role, AuthSchemes.Session);
        await http.SignInAsync(AuthSchemes.Session, principal).ConfigureAwait(false);
        http.User = principal;
        Log.LoginSucceeded(logger, user.Name, address);
        await audit.RecordAsync(user.Name, "session.login", "session", user.Name, new() { ["address"] = address }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new SessionInfo(user.Name, user.Role, AuthSchemes.Session, antiforgery.GetAndStoreTokens(http).RequestToken));
    }

    private static Ok<SessionInfo> WhoAmI(HttpContext http, IAntiforgery antiforgery)
    {
        var session = Actors.IsSession(http.User);
        return TypedResults.Ok(new SessionInfo(
            http.User.Identity!.Name!,
            http.User.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value ?? string.Empty,
            session ? AuthSchemes.Session : AuthSchemes.ApiKey,
            session ? antiforgery.GetAndStoreTokens(http).RequestToken : null));
    }

    private static async Task<NoContent> LogoutAsync(HttpContext http, IAuditLog audit, CancellationToken cancellationToken)
    {
        if (Actors.IsSession(http.User))
        {
            await http.SignOutAsync(AuthSchemes.Session).ConfigureAwait(false);
        }

        await audit.RecordAsync(Actors.Of(http.User), "session.logout", "session", http.User.Identity?.Name, null, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePasswordAsync(
        PasswordChange request, HttpContext http, IKiteflowStore store, IAuditLog audit, CancellationToken cancellationToken)
    {
        if (!Actors.IsSession(http.User))
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "Log in with the password", "A password is changed in a session (POST /api/v1/session), not with an API key.");
        }

        var user = await store.Users.GetByIdAsync(Actors.UserId(http.User), cancellationToken).ConfigureAwait(false);
        var hasher = new PasswordHasher<UserRow>();
        var errors = new Dictionary<string, List<string>>();
        if (user is null || string.IsNullOrEmpty(request.CurrentPassword) || hasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword) == PasswordVerificationResult.Failed)
        {
            errors.Add("currentPassword", "The current password is wrong.");
        }

        if (request.NewPassword is not { Length: >= 8 })
        {
            errors.Add("newPassword", "The new password must have at least 8 characters.");
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        await store.Users.SetPasswordHashAsync(user!.Id, hasher.HashPassword(user, request.NewPassword!), cancellationToken).ConfigureAwait(false);
        await audit.RecordAsync(Actors.Of(http.User), "session.password-change", "user", user.Name, null, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static readonly string UnknownUserHash = new PasswordHasher<UserRow>().HashPassword(null!, Guid.NewGuid().ToString());

    /// <summary>Logging in.</summary>
    /// <param name="User">The user name.</param>
    /// <param name="Password">The password.</param>
    internal sealed record LoginRequest(string? User, string? Password);

    /// <summary>Who the request acts as.</summary>
    /// <param name="User">The user name.</param>
    /// <param name="Role">The user's role.</param>
    /// <param name="Via"><c>session</c> (cookie) or <c>api-key</c>.</param>
    /// <param name="AntiforgeryToken">For sessions: send it as <c>X-CSRF-TOKEN</c> on requests that change something.</param>
    internal sealed record SessionInfo(string User, string Role, string Via, string? AntiforgeryToken);

    /// <summary>Changing the password.</summary>
    /// <param name="CurrentPassword">The password now.</param>
    /// <param name="NewPassword">The new one (8 characters or more).</param>
    internal sealed record PasswordChange(string? CurrentPassword, string? NewPassword);
}
