namespace Kiteflow.Storage;

/// <summary>What creating an API key needs.</summary>
/// <param name="UserId">The user the key acts as.</param>
/// <param name="Name">What the key is for (free text).</param>
/// <param name="Prefix">The key's first characters, shown in lists.</param>
/// <param name="Hash">SHA-256 of the key, lower-case hex.</param>
/// <param name="CreatedAt">When.</param>
public sealed record NewApiKey(long UserId, string Name, string Prefix, string Hash, DateTimeOffset CreatedAt);
