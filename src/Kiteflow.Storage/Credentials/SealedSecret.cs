namespace Kiteflow.Storage;

/// <summary>A token sealed by the caller: the id of the master key it was sealed with, and the blob (nonce, ciphertext, tag).</summary>
/// <param name="KeyId">The master key's id (a fingerprint, not the key).</param>
/// <param name="Nonce">The AES-GCM nonce.</param>
/// <param name="Ciphertext">The encrypted token.</param>
/// <param name="Tag">The AES-GCM tag.</param>
public sealed record SealedSecret(string KeyId, byte[] Nonce, byte[] Ciphertext, byte[] Tag);
