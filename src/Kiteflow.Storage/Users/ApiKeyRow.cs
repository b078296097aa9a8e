namespace Kiteflow.Storage;

/// <summary>A stored API key (never the key itself).</summary>
/// <param name="Id">The store's id.</param>
/// <param name="UserId">The user it acts as.</param>
/// <param name="UserName">That user's name.</param>
/// <param name="Name">What it is for.</param>
/// <param name="Prefix">Its first characters.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="LastUsedAt">When it was last used, if ever.</param>
/// <param name="RevokedAt">When it was revoked, if it was.</param>
public sealed record ApiKeyRow(long Id, long UserId, string UserName, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);
