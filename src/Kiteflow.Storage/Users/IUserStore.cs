namespace Kiteflow.Storage;

/// <summary>Users (who can log in) and API keys (bearer keys that act as a user). Secrets are stored hashed only.</summary>
public interface IUserStore
{
    /// <summary>Creates a user.</summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.NameTaken"/>.</exception>
    Task<UserRow> CreateAsync(string name, string passwordHash, string role, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The user of that name, or null.</summary>
    Task<UserRow?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>The user of that id, or null.</summary>
    Task<UserRow?> GetByIdAsync(long id, CancellationToken cancellationToken);

    /// <summary>How many users exist.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>Replaces a user's password hash (also to upgrade an old hash format).</summary>
    Task<bool> SetPasswordHashAsync(long userId, string passwordHash, CancellationToken cancellationToken);

    /// <summary>Stores a new API key (its hash).</summary>
    Task<ApiKeyRow> CreateApiKeyAsync(NewApiKey key, CancellationToken cancellationToken);

    /// <summary>The key with that hash that is not revoked, or null.</summary>
    Task<ApiKeyRow?> FindApiKeyAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Every key, revoked ones included, newest first.</summary>
    Task<IReadOnlyList<ApiKeyRow>> ListApiKeysAsync(CancellationToken cancellationToken);

    /// <summary>Revokes a key; false when there is none or it was already revoked.</summary>
    Task<bool> RevokeApiKeyAsync(long id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Notes when a key was last used (best effort).</summary>
    Task TouchApiKeyAsync(long id, DateTimeOffset at, CancellationToken cancellationToken);
}
