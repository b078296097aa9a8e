namespace Kiteflow.Server.Security;

/// <summary>The server's authentication schemes and claim names.</summary>
internal static class AuthSchemes
{
    /// <summary>Picks <see cref="Session"/> or <see cref="ApiKey"/> by the request's Authorization header.</summary>
    public const string Default = "kiteflow";

    /// <summary>The UI's cookie session (state-changing requests need the antiforgery token).</summary>
    public const string Session = "session";

    /// <summary><c>Authorization: Bearer kfk_…</c>.</summary>
    public const string ApiKey = "api-key";

    /// <summary>The role that may manage API keys.</summary>
    public const string AdminRole = "admin";

    /// <summary>Claim: the user's id in the store.</summary>
    public const string UserIdClaim = "kiteflow:user-id";

    /// <summary>Claim: the API key's shown prefix, on API-key requests.</summary>
    public const string KeyPrefixClaim = "kiteflow:key-prefix";

    /// <summary>The header the antiforgery token travels in.</summary>
    public const string AntiforgeryHeader = "X-CSRF-TOKEN";
}
