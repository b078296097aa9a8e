using System.Buffers;
using System.Text.Json;
using Kiteflow.Core.Json;

namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// Named Buildkite credentials in one JSON file (<c>credentials.json</c>, mode 0600, replaced atomically on every
/// change), each token sealed with AES-256-GCM. The key comes from <c>KITEFLOW_MASTER_KEY</c> when given, else from
/// the file <c>key</c> beside the store, created (0600, 32 random bytes) the first time a credential is added.
/// Names, API bases and creation times are stored in the clear so that listing needs no key.
/// </summary>
/// <remarks>
/// Changes are serialized within a process; two processes changing the store at the same moment can lose one
/// change (each rename is atomic, so the file itself is never torn).
/// </remarks>
internal sealed class CredentialStore
{
    /// <summary>The environment variable naming the folder that holds the store (tests point it at a temporary folder).</summary>
    public const string HomeVariable = "KITEFLOW_HOME";

    /// <summary>The environment variable holding the master key, base64 of 32 bytes.</summary>
    public const string MasterKeyVariable = "KITEFLOW_MASTER_KEY";

    /// <summary>The store's file name inside its folder.</summary>
    public const string FileName = "credentials.json";

    /// <summary>The key file's name inside the store's folder.</summary>
    public const string KeyFileName = "key";

    private readonly string? _masterKeyText;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _gate = new();
    private MasterKey? _key;

    /// <summary>A store in <paramref name="directory"/>.</summary>
    /// <param name="directory">The folder holding <c>credentials.json</c> and <c>key</c>; created (0700) on the first write.</param>
    /// <param name="masterKey">
    /// The master key as base64 of 32 bytes, as <c>KITEFLOW_MASTER_KEY</c> holds it; null or blank to use the key file.
    /// A malformed value is reported when a key is first needed, so listing and removing still work.
    /// </param>
    /// <param name="timeProvider">The clock for creation times. Default <see cref="TimeProvider.System"/>.</param>
    public CredentialStore(string directory, string? masterKey = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        DirectoryPath = Path.GetFullPath(directory);
        FilePath = Path.Combine(DirectoryPath, FileName);
        KeyFilePath = Path.Combine(DirectoryPath, KeyFileName);
        _masterKeyText = string.IsNullOrWhiteSpace(masterKey) ? null : masterKey;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The folder holding the store.</summary>
    public string DirectoryPath { get; }

    /// <summary>The store's file.</summary>
    public string FilePath { get; }

    /// <summary>The key file, used when no master key is given.</summary>
    public string KeyFilePath { get; }

    /// <summary>
    /// The store the user's environment names: the folder <c>KITEFLOW_HOME</c>, else <c>$XDG_DATA_HOME/kiteflow</c>,
    /// else <c>~/.local/share/kiteflow</c>; the key from <c>KITEFLOW_MASTER_KEY</c> when it is set.
    /// </summary>
    public static CredentialStore FromEnvironment(TimeProvider? timeProvider = null) =>
        FromEnvironment(Environment.GetEnvironmentVariable, timeProvider);

    /// <summary><see cref="FromEnvironment(TimeProvider?)"/> reading variables through <paramref name="getVariable"/>.</summary>
    public static CredentialStore FromEnvironment(Func<string, string?> getVariable, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        return new CredentialStore(DefaultDirectory(getVariable), getVariable(MasterKeyVariable), timeProvider);
    }

    /// <summary>The store's folder as <see cref="FromEnvironment(TimeProvider?)"/> chooses it.</summary>
    public static string DefaultDirectory(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        if (getVariable(HomeVariable) is { Length: > 0 } home)
        {
            return Path.GetFullPath(home);
        }

        // The XDG base directory specification says a relative XDG_DATA_HOME is invalid and must be ignored.
        if (getVariable("XDG_DATA_HOME") is { Length: > 0 } dataHome && Path.IsPathFullyQualified(dataHome))
        {
            return Path.Combine(dataHome, "kiteflow");
        }

        var userHome = getVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(userHome, ".local", "share", "kiteflow");
    }

    /// <summary>The stored credentials, by name; nothing is decrypted, so no key is needed.</summary>
    /// <exception cref="CredentialException">The store cannot be read.</exception>
    public IReadOnlyList<CredentialSummary> List()
    {
        lock (_gate)
        {
            return [.. Load().Select(e => new CredentialSummary(e.Name, e.ApiBase, e.CreatedAt)).OrderBy(s => s.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The credential named <paramref name="name"/>, decrypted.</summary>
    /// <exception cref="CredentialException">
    /// Not found, the store cannot be read, the master key is malformed or not the one the credential was stored
    /// with, or the entry was changed after it was stored (<see cref="CredentialException.Kind"/> tells which).
    /// </exception>
    public Credential Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            var entry = Load().Find(e => e.Name == name)
                ?? throw new CredentialException(CredentialErrorKind.NotFound, $"no credential is named '{CredentialRules.Displayable(name)}' in {FilePath}.");
            var key = ResolveKey(create: false) ?? throw new CredentialException(
                CredentialErrorKind.WrongMasterKey,
                $"the credentials in {FilePath} were stored with a master key that is not here: {MasterKeyVariable} is not set and the key file {KeyFilePath} does not exist; set {MasterKeyVariable} to that key or remove and add them again.");
            if (entry.KeyId != key.Id)
            {
                throw new CredentialException(
                    CredentialErrorKind.WrongMasterKey,
                    $"the credentials in {FilePath} were stored with another master key than {key.Source} ('{CredentialRules.Displayable(name)}' among them); set {MasterKeyVariable} to that key or remove and add them again.");
            }

            if (!TokenCipher.TryDecrypt(key, entry.Name, entry.ApiBase, entry.Sealed, out var token))
            {
                throw new CredentialException(
                    CredentialErrorKind.Damaged,
                    $"the credential '{CredentialRules.Displayable(name)}' in {FilePath} does not decrypt although its master key is right: its encrypted token, name or API base was changed after it was stored (they are sealed together, so an entry cannot be edited or moved to another name); remove it and add it again.");
            }

            return new Credential(entry.Name, token, entry.ApiBase, entry.CreatedAt);
        }
    }

    /// <summary>Encrypts and stores a credential, creating the store and the key file when needed.</summary>
    /// <param name="name">The name, see <see cref="CredentialRules.NameProblem"/>.</param>
    /// <param name="token">The API access token.</param>
    /// <param name="apiBase">Where the token may be sent; null for <c>https://api.buildkite.com</c>.</param>
    /// <param name="replace">Whether an existing credential of that name is replaced (otherwise that is an error).</param>
    /// <returns>The stored credential.</returns>
    /// <exception cref="ArgumentException">The name, token or API base is not acceptable (the message never holds the token).</exception>
    /// <exception cref="CredentialException">
    /// The name is taken, the key is malformed or is not the one the stored credentials were sealed with (a store holds
    /// one key), or the store cannot be written.
    /// </exception>
    public Credential Add(string name, string token, Uri? apiBase = null, bool replace = false)
    {
        var credential = new Credential(name, token, apiBase ?? CredentialRules.DefaultApiBase, _timeProvider.GetUtcNow());
        lock (_gate)
        {
            var entries = Load();
            var index = entries.FindIndex(e => e.Name == name);
            if (index >= 0 && !replace)
            {
                throw new CredentialException(CredentialErrorKind.AlreadyExists, $"a credential named '{CredentialRules.Displayable(name)}' already exists in {FilePath}.");
            }

            // One store, one key: a credential sealed under another key than the others' would leave part of the
            // store unreadable whichever key is given later.
            var others = entries.Where((_, i) => i != index).ToList();
            if (others.Count > 0)
            {
                var current = ResolveKey(create: false) ?? throw new CredentialException(
                    CredentialErrorKind.WrongMasterKey,
                    $"the credentials in {FilePath} were stored with a master key that is not here ({MasterKeyVariable} is not set and the key file {KeyFilePath} does not exist); adding '{name}' would make a new key and leave two keys in one store. Put the key back (or set {MasterKeyVariable} to it), or remove the stored credentials first (kiteflow credentials remove NAME).");
                if (others.Find(e => e.KeyId != current.Id) is { } other)
                {
                    throw new CredentialException(
                        CredentialErrorKind.WrongMasterKey,
                        $"the credentials in {FilePath} were stored with another master key than {current.Source} ('{other.Name}' among them); adding '{name}' under this key would leave two keys in one store. Set {MasterKeyVariable} to the store's key, or remove those credentials first (kiteflow credentials remove NAME).");
                }
            }

            var key = ResolveKey(create: true)!;
            var entry = new Entry(credential.Name, credential.ApiBase, credential.CreatedAt, key.Id, TokenCipher.Encrypt(key, credential.Name, credential.ApiBase, token));
            if (index >= 0)
            {
                entries[index] = entry;
            }
            else
            {
                entries.Add(entry);
            }

            Save(entries);
        }

        return credential;
    }

    /// <summary>Removes a credential; false when there was none of that name. No key is needed.</summary>
    /// <exception cref="CredentialException">The store cannot be read or written.</exception>
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            var entries = Load();
            if (entries.RemoveAll(e => e.Name == name) == 0)
            {
                return false;
            }

            Save(entries);
            return true;
        }
    }

    private MasterKey? ResolveKey(bool create)
    {
        if (_key is not null)
        {
            return _key;
        }

        _key = _masterKeyText is not null
            ? MasterKey.FromVariable(MasterKeyVariable, _masterKeyText, KeyFilePath)
            : MasterKey.ReadFile(KeyFilePath) ?? (create ? MasterKey.CreateFile(KeyFilePath) : null);
        return _key;
    }

    private List<Entry> Load()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(FilePath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CredentialException(CredentialErrorKind.Unreadable, $"the credentials file {FilePath} cannot be read: {e.Message}", e);
        }

        CredentialFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, CredentialFileJsonContext.Default.CredentialFile);
        }
        catch (JsonException e)
        {
            throw Unreadable($"it is not valid JSON ({e.Message})", e);
        }

        if (file is null)
        {
            throw Unreadable("it holds null instead of an object");
        }

        if (file.Version != CredentialFile.CurrentVersion)
        {
            throw Unreadable($"its version is {file.Version}, and this Kiteflow reads version {CredentialFile.CurrentVersion}");
        }

        var entries = new List<Entry>(file.Credentials.Count);
        for (var i = 0; i < file.Credentials.Count; i++)
        {
            var entry = Parse(file.Credentials[i], i, out var problem) ?? throw Unreadable(problem);
            if (entries.Exists(e => e.Name == entry.Name))
            {
                throw Unreadable($"the name '{entry.Name}' appears twice");
            }

            entries.Add(entry);
        }

        return entries;
    }

    private static Entry? Parse(StoredCredential? stored, int index, out string problem)
    {
        problem = string.Empty;
        var at = $"credentials[{index}]";
        if (stored is null)
        {
            problem = $"{at} is null";
            return null;
        }

        if (stored.Name is null || !CredentialRules.IsWellFormedName(stored.Name))
        {
            problem = $"{at}.name is missing or not a credential name";
            return null;
        }

        if (stored.ApiBase is null || !Uri.TryCreate(stored.ApiBase, UriKind.Absolute, out var apiBase) || CredentialRules.ApiBaseProblem(apiBase) is not null)
        {
            problem = $"{at}.apiBase ('{CredentialRules.Displayable(stored.Name)}') is missing or not an https URL (http only on loopback)";
            return null;
        }

        if (string.IsNullOrEmpty(stored.KeyId))
        {
            problem = $"{at}.keyId ('{stored.Name}') is missing";
            return null;
        }

        var nonce = FromBase64(stored.Nonce);
        var ciphertext = FromBase64(stored.Ciphertext);
        var tag = FromBase64(stored.Tag);
        if (nonce is not { Length: TokenCipher.NonceSize } || ciphertext is null || tag is not { Length: TokenCipher.TagSize })
        {
            problem = $"{at} ('{stored.Name}') lacks a base64 nonce of {TokenCipher.NonceSize} bytes, ciphertext or tag of {TokenCipher.TagSize} bytes";
            return null;
        }

        return new Entry(stored.Name, CredentialRules.NormalizeApiBase(apiBase), stored.CreatedAt, stored.KeyId, new EncryptedToken(nonce, ciphertext, tag));
    }

    private static byte[]? FromBase64(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private void Save(List<Entry> entries)
    {
        var file = new CredentialFile
        {
            Credentials = [.. entries.Select(e => new StoredCredential
            {
                Name = e.Name,
                ApiBase = e.ApiBase.OriginalString,
                CreatedAt = e.CreatedAt,
                KeyId = e.KeyId,
                Nonce = Convert.ToBase64String(e.Sealed.Nonce),
                Ciphertext = Convert.ToBase64String(e.Sealed.Ciphertext),
                Tag = Convert.ToBase64String(e.Sealed.Tag),
            })],
        };
        try
        {
            PrivateFiles.CreateDirectory(DirectoryPath);
            PrivateFiles.ReplaceAtomically(FilePath, Serialize(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CredentialException(CredentialErrorKind.Unreadable, $"the credentials file {FilePath} cannot be written: {e.Message}", e);
        }
    }

    /// <summary>Indented, and without the default encoder's escapes (base64's '+' stays '+'), so the file reads plainly.</summary>
    private static byte[] Serialize(CredentialFile file)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.IndentedWriterOptions))
        {
            JsonSerializer.Serialize(writer, file, CredentialFileJsonContext.Default.CredentialFile);
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private CredentialException Unreadable(string problem, Exception? inner = null) =>
        new(CredentialErrorKind.Unreadable, $"{FilePath} is not a credentials file Kiteflow can read: {problem}. Fix it, or move it away and add the credentials again.", inner);

    private sealed record Entry(string Name, Uri ApiBase, DateTimeOffset CreatedAt, string KeyId, EncryptedToken Sealed);
}
