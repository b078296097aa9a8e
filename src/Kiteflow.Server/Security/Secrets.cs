using System.Security.Cryptography;
using System.Text;

namespace Kiteflow.Server.Security;

/// <summary>
/// The server's random secrets and their hashes. Keys are high-entropy random strings, so one SHA-256 is the right
/// hash for them (a slow password hash buys nothing against 256+ bits); passwords use Identity's PBKDF2 instead.
/// </summary>
internal static class Secrets
{
    /// <summary>The start of every API key.</summary>
    public const string ApiKeyPrefix = "kfk_";

    /// <summary>The start of every ingest key.</summary>
    public const string IngestKeyPrefix = "kfi_";

    /// <summary>How many characters of a key are kept in the clear to tell keys apart.</summary>
    public const int ShownPrefixLength = 12;

    /// <summary>A new API key: <c>kfk_</c> and 43 base64url characters (32 random bytes).</summary>
    public static string NewApiKey() => ApiKeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// A new ingest key: <c>kfi_</c> and 86 base64url characters (64 random bytes). It is longer than SHA-256's
    /// 64-byte block on purpose: HMAC hashes such a key first, so HMAC(key, body) equals HMAC(SHA-256(key), body)
    /// and the server can check signatures while it stores only the key's hash.
    /// </summary>
    public static string NewIngestKey() => IngestKeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(64));

    /// <summary>A new password for the first user: 20 characters from a set without look-alikes.</summary>
    public static string NewPassword()
    {
        const string alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }

    /// <summary>SHA-256 of the key's UTF-8, lower-case hex.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Whether <paramref name="key"/> hashes to <paramref name="expectedHash"/>, in constant time.</summary>
    public static bool Matches(string key, string expectedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(key)), Encoding.ASCII.GetBytes(expectedHash));

    /// <summary>The first characters of a key, shown in lists.</summary>
    public static string ShownPrefix(string key) => key.Length <= ShownPrefixLength ? key : key[..ShownPrefixLength];

    /// <summary>
    /// Whether <paramref name="signatureHeader"/> (<c>sha256=&lt;hex&gt;</c>) is the HMAC-SHA256 of <paramref name="body"/>
    /// under the ingest key whose hash is <paramref name="keyHash"/> (see <see cref="NewIngestKey"/>).
    /// </summary>
    public static bool SignatureMatches(string signatureHeader, ReadOnlySpan<byte> body, string keyHash)
    {
        const string scheme = "sha256=";
        if (!signatureHeader.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(signatureHeader.AsSpan(scheme.Length).Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Convert.FromHexString(keyHash), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
