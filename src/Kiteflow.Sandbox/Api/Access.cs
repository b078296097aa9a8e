using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api;

internal static class Access
{
    /// <summary>Whether a token reaches an organization: its user is a member, and the token was not limited to others.</summary>
    public static bool CanReach(TokenEntity token, OrganizationEntity org) =>
        org.Members.ContainsKey(token.User.Id)
        && (token.Organizations is null || token.Organizations.Contains(org.Slug, StringComparer.OrdinalIgnoreCase));
}
