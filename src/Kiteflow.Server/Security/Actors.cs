using System.Security.Claims;

namespace Kiteflow.Server.Security;

/// <summary>Who a request acts as, as the audit log writes it.</summary>
internal static class Actors
{
    /// <summary>What background work (no request) is recorded as.</summary>
    public const string System = "system";

    /// <summary><c>admin</c> for a session, <c>admin (api-key kfk_AbCdEfGh)</c> for an API key.</summary>
    public static string Of(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var name = user.Identity?.Name ?? "anonymous";
        return user.FindFirst(AuthSchemes.KeyPrefixClaim)?.Value is { } prefix ? $"{name} (api-key {prefix})" : name;
    }

    /// <summary>Whether the request came with a session cookie (not an API key).</summary>
    public static bool IsSession(ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, AuthenticationType: AuthSchemes.Session };

    /// <summary>The user's id in the store.</summary>
    public static long UserId(ClaimsPrincipal user) => long.Parse(user.FindFirst(AuthSchemes.UserIdClaim)!.Value, global::System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A principal for a stored user, authenticated by <paramref name="scheme"/>.</summary>
    public static ClaimsPrincipal Principal(long userId, string name, string role, string scheme, string? keyPrefix = null)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, name),
            new(ClaimTypes.Role, role),
            new(AuthSchemes.UserIdClaim, userId.ToString(global::System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (keyPrefix is not null)
        {
            claims.Add(new Claim(AuthSchemes.KeyPrefixClaim, keyPrefix));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }
}
