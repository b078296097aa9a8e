namespace Kiteflow.Delivery.Credentials;

/// <summary>A token sealed with AES-256-GCM: the 12-byte nonce, the ciphertext (as long as the token) and the 16-byte tag.</summary>
internal sealed record EncryptedToken(byte[] Nonce, byte[] Ciphertext, byte[] Tag);
