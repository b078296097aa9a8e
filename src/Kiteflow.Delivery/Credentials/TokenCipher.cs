using System.Security.Cryptography;
using System.Text;

namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// Seals tokens with AES-256-GCM. The associated data binds the credential's name and API base to its token,
/// so an entry cannot be copied to another name, nor pointed at another host, without the key: either change
/// makes decryption fail instead of sending the token somewhere it was not meant to go.
/// </summary>
internal static class TokenCipher
{
    public const int NonceSize = 12;

    public const int TagSize = 16;

    /// <summary>Encrypts <paramref name="token"/> under a fresh random nonce.</summary>
    public static EncryptedToken Encrypt(MasterKey key, string name, Uri apiBase, string token)
    {
        var plaintext = Encoding.UTF8.GetBytes(token);
        try
        {
            var nonce = RandomNumberGenerator.GetBytes(NonceSize);
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[TagSize];
            using var aes = new AesGcm(key.Bytes, TagSize);
            aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData(name, apiBase));
            return new EncryptedToken(nonce, ciphertext, tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Decrypts a token; false when the tag does not match (another key, or anything changed).</summary>
    public static bool TryDecrypt(MasterKey key, string name, Uri apiBase, EncryptedToken sealedToken, out string token)
    {
        token = string.Empty;
        if (sealedToken.Nonce.Length != NonceSize || sealedToken.Tag.Length != TagSize)
        {
            return false;
        }

        var plaintext = new byte[sealedToken.Ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key.Bytes, TagSize);
            aes.Decrypt(sealedToken.Nonce, sealedToken.Ciphertext, sealedToken.Tag, plaintext, AssociatedData(name, apiBase));
            token = Encoding.UTF8.GetString(plaintext);
            return true;
        }
        catch (CryptographicException)
        {
            // AuthenticationTagMismatchException: the caller tells a wrong key from a changed entry by the key id.
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Name and API base can hold no line break (the name rule, a normalized URI), so the joined form is unambiguous.</summary>
    private static byte[] AssociatedData(string name, Uri apiBase) =>
        Encoding.UTF8.GetBytes($"kiteflow credential v1\n{name}\n{apiBase.OriginalString}");
}
