using System.Text.Encodings.Web;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Kiteflow.Server.Security;

/// <summary>Authenticates <c>Authorization: Bearer kfk_…</c> against the stored hashes of the API keys that are not revoked.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IKiteflowStore store,
    ServerOptions serverOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var key = header["Bearer ".Length..].Trim();
        if (!key.StartsWith(Secrets.ApiKeyPrefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.Fail("The bearer token is not a Kiteflow API key (kfk_…).");
        }

        var row = await store.Users.FindApiKeyAsync(Secrets.Hash(key), Context.RequestAborted).ConfigureAwait(false);
        if (row is null)
        {
            return AuthenticateResult.Fail("The API key is unknown or revoked.");
        }

        var user = await store.Users.GetByIdAsync(row.UserId, Context.RequestAborted).ConfigureAwait(false);
        if (user is null)
        {
            return AuthenticateResult.Fail("The API key's user no longer exists.");
        }

        // Noting every use would make every read a write: once a minute is enough to tell a used key from an idle one.
        var now = serverOptions.TimeProvider.GetUtcNow();
        if (row.LastUsedAt is not { } last || now - last > TimeSpan.FromMinutes(1))
        {
            await store.Users.TouchApiKeyAsync(row.Id, now, Context.RequestAborted).ConfigureAwait(false);
        }

        var principal = Actors.Principal(user.Id, user.Name, user.Role, AuthSchemes.ApiKey, row.Prefix);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, AuthSchemes.ApiKey));
    }
}
