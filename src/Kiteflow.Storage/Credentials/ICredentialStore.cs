namespace Kiteflow.Storage;

/// <summary>
/// Buildkite credentials. The store keeps the token only as the sealed blob the caller made (AES-256-GCM with the
/// master key, Kiteflow.Delivery's TokenCipher): it never sees a plain token.
/// </summary>
public interface ICredentialStore
{
    /// <summary>Stores a credential.</summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.NameTaken"/>.</exception>
    Task<CredentialRow> CreateAsync(NewCredential credential, CancellationToken cancellationToken);

    /// <summary>The credential of that name, or null.</summary>
    Task<CredentialRow?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>The credential of that id, or null.</summary>
    Task<CredentialRow?> GetByIdAsync(long id, CancellationToken cancellationToken);

    /// <summary>Every credential, by name.</summary>
    Task<IReadOnlyList<CredentialRow>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the API base and sealed token of a credential (the embedded sandbox moves port on every start).</summary>
    /// <returns>The updated row, or null when there is none.</returns>
    Task<CredentialRow?> ReplaceSecretAsync(long id, string apiBase, SealedSecret secret, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Deletes a credential; false when there was none.</summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.InUse"/>: a destination that is not deleted uses it.</exception>
    Task<bool> DeleteAsync(long id, CancellationToken cancellationToken);
}
