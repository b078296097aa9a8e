using Kiteflow.Delivery.Credentials;
using Kiteflow.Server.Hosting;
using Kiteflow.Storage;

namespace Kiteflow.Server.Credentials;

/// <summary>
/// Seals tokens for the store and opens them for use, with the master key as the CLI's credential store uses it:
/// <c>KITEFLOW_MASTER_KEY</c>, else the key file in the data folder (created 0600 on first use). The store only ever
/// sees the sealed blob; a decrypted <see cref="Credential"/> reveals its token only on purpose.
/// </summary>
internal sealed class ServerCredentials(ServerOptions options, ServerPaths paths)
{
    private readonly Lock _gate = new();
    private MasterKey? _key;

    /// <summary>Seals <paramref name="token"/> for a credential of that name and API base (both are bound to it).</summary>
    /// <exception cref="CredentialException">The master key is malformed or its file cannot be written.</exception>
    public SealedSecret Seal(string name, Uri apiBase, string token)
    {
        var key = Key(create: true)!;
        var sealedToken = TokenCipher.Encrypt(key, name, apiBase, token);
        return new SealedSecret(key.Id, sealedToken.Nonce, sealedToken.Ciphertext, sealedToken.Tag);
    }

    /// <summary>The stored credential, decrypted for use.</summary>
    /// <exception cref="CredentialException">The key is missing or another one, or the row was changed after it was sealed.</exception>
    public Credential Open(CredentialRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var key = Key(create: false) ?? throw new CredentialException(
            CredentialErrorKind.WrongMasterKey,
            $"the credential '{row.Name}' was sealed with a master key that is not here ({CredentialStore.MasterKeyVariable} is not set and {paths.KeyFile} does not exist); set {CredentialStore.MasterKeyVariable} to that key or add the credential again.");
        if (row.Secret.KeyId != key.Id)
        {
            throw new CredentialException(CredentialErrorKind.WrongMasterKey, $"the credential '{row.Name}' was sealed with another master key than {key.Source}; set {CredentialStore.MasterKeyVariable} to that key or add the credential again.");
        }

        var apiBase = new Uri(row.ApiBase);
        if (!TokenCipher.TryDecrypt(key, row.Name, apiBase, new EncryptedToken(row.Secret.Nonce, row.Secret.Ciphertext, row.Secret.Tag), out var token))
        {
            throw new CredentialException(CredentialErrorKind.Damaged, $"the credential '{row.Name}' does not decrypt although its master key is right: it was changed after it was stored; delete it and add it again.");
        }

        return new Credential(row.Name, token, apiBase, row.CreatedAt);
    }

    private MasterKey? Key(bool create)
    {
        lock (_gate)
        {
            if (_key is not null)
            {
                return _key;
            }

            _key = !string.IsNullOrWhiteSpace(options.MasterKey)
                ? MasterKey.FromVariable(CredentialStore.MasterKeyVariable, options.MasterKey, paths.KeyFile)
                : MasterKey.ReadFile(paths.KeyFile) ?? (create ? MasterKey.CreateFile(paths.KeyFile) : null);
            return _key;
        }
    }
}
