using System.Security.Cryptography;
using System.Text;

namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// The 32-byte AES-256 key credentials are sealed with, from <c>KITEFLOW_MASTER_KEY</c> or the key file, and its id:
/// a one-way fingerprint stored beside each credential so that a wrong key is told apart from a changed entry.
/// </summary>
internal sealed class MasterKey
{
    public const int Size = 32;

    private const string MakeOne = "make one with `openssl rand -base64 32`";

    private MasterKey(byte[] bytes, string source)
    {
        Bytes = bytes;
        Source = source;

        // HMAC under the key of a fixed label: reveals nothing about the key, and cannot be mistaken for a ciphertext.
        Id = Convert.ToHexStringLower(HMACSHA256.HashData(bytes, "kiteflow master key id v1"u8)[..8]);
    }

    /// <summary>The key itself.</summary>
    public byte[] Bytes { get; }

    /// <summary>Where the key came from, for messages: <c>KITEFLOW_MASTER_KEY</c> or <c>the key file …</c>.</summary>
    public string Source { get; }

    /// <summary>16 hex digits that identify the key without revealing it.</summary>
    public string Id { get; }

    /// <summary>The key held by the environment variable <paramref name="variable"/> (base64 of 32 bytes).</summary>
    /// <exception cref="CredentialException">The value is not base64 of 32 bytes (the message does not repeat it).</exception>
    public static MasterKey FromVariable(string variable, string value, string keyFile) =>
        TryDecode(value, out var bytes, out var problem)
            ? new MasterKey(bytes, variable)
            : throw new CredentialException(
                CredentialErrorKind.InvalidMasterKey,
                $"{variable} is not a master key: it must be the base64 of 32 random bytes, and {problem}. {char.ToUpperInvariant(MakeOne[0])}{MakeOne[1..]} and export it, or unset {variable} to use the key file {keyFile}.");

    /// <summary>The key in <paramref name="path"/>; null when the file does not exist.</summary>
    /// <exception cref="CredentialException">The file cannot be read or does not hold a key.</exception>
    public static MasterKey? ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.ASCII);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CredentialException(CredentialErrorKind.Unreadable, $"the key file {path} cannot be read: {e.Message}", e);
        }

        return TryDecode(text, out var bytes, out var problem)
            ? new MasterKey(bytes, $"the key file {path}")
            : throw new CredentialException(
                CredentialErrorKind.InvalidMasterKey,
                $"the key file {path} does not hold a master key: it must be the base64 of 32 bytes, and {problem}. Put the key back, or set KITEFLOW_MASTER_KEY ({MakeOne}; credentials stored with the lost key must then be added again).");
    }

    /// <summary>
    /// Creates the key file with 32 random bytes (as base64, so it can be copied into <c>KITEFLOW_MASTER_KEY</c>),
    /// readable by the owner alone. The file is born with mode 0600 and appears under its name complete and at once;
    /// when another process created it first, that key is used.
    /// </summary>
    /// <exception cref="CredentialException">The folder or file cannot be written.</exception>
    public static MasterKey CreateFile(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var bytes = RandomNumberGenerator.GetBytes(Size);
        try
        {
            PrivateFiles.CreateDirectory(directory);
            PrivateFiles.WriteNew(temporary, Encoding.ASCII.GetBytes(Convert.ToBase64String(bytes) + "\n"));
            try
            {
                // No overwrite: a key another process has just made must not be replaced under its credentials.
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
                CryptographicOperations.ZeroMemory(bytes);
                return ReadFile(path) ?? throw new CredentialException(CredentialErrorKind.Unreadable, $"the key file {path} vanished while it was being created.");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new CredentialException(CredentialErrorKind.Unreadable, $"the key file {path} cannot be created: {e.Message}", e);
        }

        return new MasterKey(bytes, $"the key file {path}");
    }

    private static bool TryDecode(string text, out byte[] bytes, out string problem)
    {
        bytes = [];
        problem = string.Empty;
        try
        {
            bytes = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            problem = "it is not base64";
            return false;
        }

        if (bytes.Length != Size)
        {
            problem = $"it decodes to {bytes.Length} bytes";
            CryptographicOperations.ZeroMemory(bytes);
            return false;
        }

        return true;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is harmless (mode 0600); the error that matters is the one being reported.
        }
    }
}
