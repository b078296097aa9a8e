using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Delivery.Credentials;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Delivery.Tests.Credentials;

public sealed class CredentialStoreTests : IDisposable
{
    private const string Token = "bkua_0123456789abcdef0123456789abcdef01234567";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kf-credentials-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private CredentialStore Store(string? masterKey = null, TimeProvider? timeProvider = null) => new(_directory, masterKey, timeProvider);

    private string FileText => File.ReadAllText(Path.Combine(_directory, CredentialStore.FileName));

    private void EditEntry(int index, Action<JsonObject> edit)
    {
        var path = Path.Combine(_directory, CredentialStore.FileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        edit(root["credentials"]![index]!.AsObject());
        File.WriteAllText(path, root.ToJsonString());
    }

    [Fact]
    public void Add_ThenGetFromAnotherInstance_RoundTripsTokenApiBaseAndCreatedTime()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero));
        Store(timeProvider: clock).Add("sandbox", Token, new Uri("http://127.0.0.1:43121/"));

        var credential = Store().Get("sandbox");

        Assert.Equal("sandbox", credential.Name);
        Assert.Equal(Token, credential.RevealToken());
        Assert.Equal("http://127.0.0.1:43121", credential.ApiBase.OriginalString);
        Assert.Equal(clock.GetUtcNow(), credential.CreatedAt);
        Assert.True(credential.IsLoopback);
    }

    [Fact]
    public void Add_WithoutApiBase_UsesBuildkite()
    {
        Store().Add("acme", Token);

        var credential = Store().Get("acme");

        Assert.Equal("https://api.buildkite.com", credential.ApiBase.OriginalString);
        Assert.False(credential.IsLoopback);
    }

    [Fact]
    public void Add_FileOnDisk_DoesNotContainTheToken()
    {
        var key = NewKey();
        Store(key).Add("acme", Token);
        Store(key).Add("other", Token, new Uri("https://bk-proxy.example.com/buildkite"));

        var bytes = File.ReadAllBytes(Path.Combine(_directory, CredentialStore.FileName));

        Assert.True(bytes.Length > 0);
        Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Token)));
        Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Token[5..20])));
        Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(Token))[..20])));
        Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(Token)));
    }

    [Fact]
    public void Add_SameTokenTwice_UsesAFreshNonceEachTime()
    {
        var store = Store();
        store.Add("one", Token);
        store.Add("two", Token);

        var entries = JsonNode.Parse(FileText)!["credentials"]!.AsArray();

        Assert.NotEqual(entries[0]!["nonce"]!.GetValue<string>(), entries[1]!["nonce"]!.GetValue<string>());
        Assert.NotEqual(entries[0]!["ciphertext"]!.GetValue<string>(), entries[1]!["ciphertext"]!.GetValue<string>());
    }

    [Fact]
    public void Get_WithAnotherMasterKey_ThrowsWrongMasterKeyNamingTheFileAndTheFix()
    {
        Store(NewKey()).Add("acme", Token);

        var e = Assert.Throws<CredentialException>(() => Store(NewKey()).Get("acme"));

        Assert.Equal(CredentialErrorKind.WrongMasterKey, e.Kind);
        Assert.Contains($"the credentials in {Path.Combine(_directory, CredentialStore.FileName)} were stored with another master key", e.Message);
        Assert.Contains("set KITEFLOW_MASTER_KEY to that key or remove and add them again", e.Message);
        Assert.DoesNotContain(Token, e.Message);
    }

    [Fact]
    public void Get_KeyFileStoreReadWithAnEnvironmentKey_ThrowsWrongMasterKey()
    {
        Store().Add("acme", Token);

        var e = Assert.Throws<CredentialException>(() => Store(NewKey()).Get("acme"));

        Assert.Equal(CredentialErrorKind.WrongMasterKey, e.Kind);
        Assert.Contains("another master key than KITEFLOW_MASTER_KEY", e.Message);
    }

    [Fact]
    public void Get_WhenTheKeyFileIsGone_ThrowsWrongMasterKeyAndDoesNotMakeANewKey()
    {
        Store().Add("acme", Token);
        File.Delete(Path.Combine(_directory, CredentialStore.KeyFileName));

        var e = Assert.Throws<CredentialException>(() => Store().Get("acme"));

        Assert.Equal(CredentialErrorKind.WrongMasterKey, e.Kind);
        Assert.Contains("does not exist", e.Message);
        Assert.False(File.Exists(Path.Combine(_directory, CredentialStore.KeyFileName)));
    }

    [Fact]
    public void Add_WithAnotherMasterKeyThanTheStores_IsRefused_AndTheStoreIsUnchanged()
    {
        var storeKey = NewKey();
        Store(storeKey).Add("acme", Token);
        var before = FileText;

        var e = Assert.Throws<CredentialException>(() => Store(NewKey()).Add("other", Token));

        Assert.Equal(CredentialErrorKind.WrongMasterKey, e.Kind);
        Assert.Contains("another master key than KITEFLOW_MASTER_KEY ('acme' among them)", e.Message);
        Assert.Contains("two keys in one store", e.Message);
        Assert.DoesNotContain(Token, e.Message);
        Assert.Equal(before, FileText);
        Assert.Equal(Token, Store(storeKey).Get("acme").RevealToken());
    }

    [Fact]
    public void Add_KeyFileGoneWhileCredentialsAreStored_IsRefused_WithoutMakingANewKey()
    {
        Store().Add("acme", Token);
        File.Delete(Path.Combine(_directory, CredentialStore.KeyFileName));

        var e = Assert.Throws<CredentialException>(() => Store().Add("other", Token));

        Assert.Equal(CredentialErrorKind.WrongMasterKey, e.Kind);
        Assert.Contains("would make a new key", e.Message);
        Assert.False(File.Exists(Path.Combine(_directory, CredentialStore.KeyFileName)));
        Assert.DoesNotContain("other", FileText);
    }

    [Fact]
    public void Add_ReplacingTheOnlyCredentialUnderANewKey_IsAllowed()
    {
        Store(NewKey()).Add("acme", Token);
        var newKey = NewKey();

        Store(newKey).Add("acme", Token, replace: true);

        Assert.Equal(Token, Store(newKey).Get("acme").RevealToken());
    }

    [Fact]
    public void Get_WhenCiphertextTampered_ThrowsDamaged()
    {
        var key = NewKey();
        Store(key).Add("acme", Token);
        EditEntry(0, entry =>
        {
            var ciphertext = Convert.FromBase64String(entry["ciphertext"]!.GetValue<string>());
            ciphertext[3] ^= 0x01;
            entry["ciphertext"] = Convert.ToBase64String(ciphertext);
        });

        var e = Assert.Throws<CredentialException>(() => Store(key).Get("acme"));

        Assert.Equal(CredentialErrorKind.Damaged, e.Kind);
        Assert.Contains("'acme'", e.Message);
        Assert.Contains("was changed after it was stored", e.Message);
    }

    [Fact]
    public void Get_WhenTagTampered_ThrowsDamaged()
    {
        var key = NewKey();
        Store(key).Add("acme", Token);
        EditEntry(0, entry => entry["tag"] = Convert.ToBase64String(new byte[16]));

        var e = Assert.Throws<CredentialException>(() => Store(key).Get("acme"));

        Assert.Equal(CredentialErrorKind.Damaged, e.Kind);
    }

    [Fact]
    public void Get_WhenCiphertextMovedToAnotherName_Throws()
    {
        var key = NewKey();
        var store = Store(key);
        store.Add("prod", "bkua_prod_token_0000000000000000000000000000");
        store.Add("sandbox", Token, new Uri("http://127.0.0.1:43121"));
        EditEntry(1, entry => entry["apiBase"] = "https://api.buildkite.com");

        // Copy prod's sealed token into an entry named "sandbox" with prod's API base: only the name differs.
        var path = Path.Combine(_directory, CredentialStore.FileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        var prod = root["credentials"]![0]!;
        var sandbox = root["credentials"]![1]!;
        foreach (var field in (string[])["nonce", "ciphertext", "tag"])
        {
            sandbox[field] = prod[field]!.GetValue<string>();
        }

        File.WriteAllText(path, root.ToJsonString());

        var e = Assert.Throws<CredentialException>(() => Store(key).Get("sandbox"));

        Assert.Equal(CredentialErrorKind.Damaged, e.Kind);
        Assert.Equal("bkua_prod_token_0000000000000000000000000000", Store(key).Get("prod").RevealToken());
    }

    [Fact]
    public void Get_WhenApiBaseEditedToAnotherHost_ThrowsRatherThanSendTheTokenThere()
    {
        var key = NewKey();
        Store(key).Add("acme", Token);
        EditEntry(0, entry => entry["apiBase"] = "https://attacker.example.com");

        var e = Assert.Throws<CredentialException>(() => Store(key).Get("acme"));

        Assert.Equal(CredentialErrorKind.Damaged, e.Kind);
    }

    [Fact]
    public void Get_UnknownName_ThrowsNotFound()
    {
        Store().Add("acme", Token);

        var e = Assert.Throws<CredentialException>(() => Store().Get("acm"));

        Assert.Equal(CredentialErrorKind.NotFound, e.Kind);
        Assert.Contains("'acm'", e.Message);
    }

    [Theory]
    [InlineData("not base64 at all!", "it is not base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", "it decodes to 16 bytes")]
    public void Add_MalformedMasterKey_ThrowsInvalidMasterKeySayingHowToMakeOne(string masterKey, string problem)
    {
        var e = Assert.Throws<CredentialException>(() => Store(masterKey).Add("acme", Token));

        Assert.Equal(CredentialErrorKind.InvalidMasterKey, e.Kind);
        Assert.Contains("KITEFLOW_MASTER_KEY is not a master key", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Contains("openssl rand -base64 32", e.Message);
        Assert.DoesNotContain(masterKey, e.Message);
        Assert.False(File.Exists(Path.Combine(_directory, CredentialStore.FileName)));
    }

    [Fact]
    public void ListAndRemove_WithMalformedMasterKey_StillWork()
    {
        Store().Add("acme", Token);
        var store = Store("nonsense");

        Assert.Equal(["acme"], store.List().Select(c => c.Name));
        Assert.True(store.Remove("acme"));
        Assert.Empty(store.List());
    }

    [Fact]
    public void Get_KeyFileMalformed_ThrowsInvalidMasterKey()
    {
        Store().Add("acme", Token);
        File.WriteAllText(Path.Combine(_directory, CredentialStore.KeyFileName), "short\n");

        var e = Assert.Throws<CredentialException>(() => Store().Get("acme"));

        Assert.Equal(CredentialErrorKind.InvalidMasterKey, e.Kind);
        Assert.Contains("does not hold a master key", e.Message);
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public void Add_WithoutMasterKey_CreatesKeyFileAndStoreWithMode0600()
    {
        Store().Add("acme", Token);

        var keyFile = Path.Combine(_directory, CredentialStore.KeyFileName);
        var storeFile = Path.Combine(_directory, CredentialStore.FileName);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(storeFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(keyFile).Trim()).Length);
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public void Add_OverAStoreFileWithAWiderMode_LeavesIt0600()
    {
        var storeFile = Path.Combine(_directory, CredentialStore.FileName);
        Store().Add("acme", Token);
        File.SetUnixFileMode(storeFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        Store().Add("other", Token);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(storeFile));
    }

    [Fact]
    public void Add_WithMasterKey_CreatesNoKeyFileAndLeavesNoTemporaryFiles()
    {
        var store = Store(NewKey());
        store.Add("acme", Token);
        store.Add("acme", Token, replace: true);
        store.Remove("acme");

        Assert.Equal([CredentialStore.FileName], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Add_KeyFileFromAnEarlierRun_IsReused()
    {
        Store().Add("one", Token);
        var key = File.ReadAllText(Path.Combine(_directory, CredentialStore.KeyFileName));

        Store().Add("two", Token);

        Assert.Equal(key, File.ReadAllText(Path.Combine(_directory, CredentialStore.KeyFileName)));
        Assert.Equal(Token, Store(key.Trim()).Get("one").RevealToken());
        Assert.Equal(Token, Store().Get("two").RevealToken());
    }

    [Fact]
    public void Add_DuplicateName_ThrowsAlreadyExistsUnlessReplace()
    {
        var store = Store();
        store.Add("acme", Token);

        var e = Assert.Throws<CredentialException>(() => store.Add("acme", "bkua_second"));
        Assert.Equal(CredentialErrorKind.AlreadyExists, e.Kind);
        Assert.Equal(Token, store.Get("acme").RevealToken());

        store.Add("acme", "bkua_second", new Uri("http://localhost:9000"), replace: true);
        var replaced = store.Get("acme");
        Assert.Equal("bkua_second", replaced.RevealToken());
        Assert.Equal("http://localhost:9000", replaced.ApiBase.OriginalString);
        Assert.Single(store.List());
    }

    [Fact]
    public void List_ShowsNamesApiBasesAndTimesSortedByName()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var store = Store(timeProvider: clock);
        store.Add("zeta", Token);
        clock.Advance(TimeSpan.FromHours(1));
        store.Add("alpha", Token, new Uri("http://127.0.0.1:8080/"));

        var list = store.List();

        Assert.Equal(
            [
                new CredentialSummary("alpha", new Uri("http://127.0.0.1:8080"), clock.GetUtcNow()),
                new CredentialSummary("zeta", new Uri("https://api.buildkite.com"), clock.GetUtcNow().AddHours(-1)),
            ],
            list);
    }

    [Fact]
    public void List_NoStoreYet_IsEmptyAndCreatesNothing()
    {
        Assert.Empty(Store().List());
        Assert.False(Directory.Exists(_directory));
    }

    [Fact]
    public void Remove_RemovesOnlyThatName()
    {
        var store = Store();
        store.Add("one", Token);
        store.Add("two", Token);

        Assert.True(store.Remove("one"));
        Assert.False(store.Remove("one"));
        Assert.Equal(["two"], store.List().Select(c => c.Name));
        Assert.Equal(Token, store.Get("two").RevealToken());
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"version\": 2, \"credentials\": []}")]
    [InlineData("{\"version\": 1, \"credentials\": [{\"name\": \"a\", \"apiBase\": \"http://example.com\", \"keyId\": \"x\", \"nonce\": \"\", \"ciphertext\": \"\", \"tag\": \"\"}]}")]
    public void List_FileNotACredentialsFile_ThrowsUnreadable(string text)
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, CredentialStore.FileName), text);

        var e = Assert.Throws<CredentialException>(() => Store().List());

        Assert.Equal(CredentialErrorKind.Unreadable, e.Kind);
        Assert.Contains("is not a credentials file Kiteflow can read", e.Message);
    }

    [Theory]
    [InlineData("bkua with space")]
    [InlineData("bkua_token\n")]
    [InlineData("bkua_tökén")]
    [InlineData("")]
    public void Add_TokenThatCannotBeAHeader_ThrowsWithoutQuotingIt(string token)
    {
        var e = Assert.Throws<ArgumentException>(() => Store().Add("acme", token));

        Assert.StartsWith("the token ", e.Message);
        if (token.Length > 0)
        {
            Assert.DoesNotContain(token.Trim(), e.Message);
        }

        Assert.False(Directory.Exists(_directory));
    }

    [Theory]
    [InlineData("http://api.buildkite.com", "plain http")]
    [InlineData("http://10.0.0.5:8080", "plain http")]
    [InlineData("https://api.buildkite.com/v2", "ends with /v2")]
    [InlineData("https://user:secret@api.buildkite.com", "user name or password")]
    [InlineData("https://api.buildkite.com/?x=1", "query or fragment")]
    [InlineData("ftp://api.buildkite.com", "not an http(s) URL")]
    public void Add_UnacceptableApiBase_Throws(string apiBase, string problem)
    {
        var e = Assert.Throws<ArgumentException>(() => Store().Add("acme", Token, new Uri(apiBase)));

        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:1234")]
    [InlineData("http://localhost:1234")]
    [InlineData("http://[::1]:1234")]
    [InlineData("https://bk-proxy.example.com/buildkite/")]
    public void Add_AcceptableApiBase_IsStored(string apiBase)
    {
        Store().Add("acme", Token, new Uri(apiBase));

        Assert.Equal(apiBase.TrimEnd('/'), Store().Get("acme").ApiBase.OriginalString);
    }

    [Theory]
    [InlineData("/srv/kf", "/data", "/home/ann", "/srv/kf")]
    [InlineData(null, "/data", "/home/ann", "/data/kiteflow")]
    [InlineData("", "relative/data", "/home/ann", "/home/ann/.local/share/kiteflow")]
    [InlineData(null, null, "/home/ann", "/home/ann/.local/share/kiteflow")]
    public void DefaultDirectory_KiteflowHomeThenXdgDataHomeThenHome(string? kiteflowHome, string? xdgDataHome, string home, string expected)
    {
        var variables = new Dictionary<string, string?> { ["KITEFLOW_HOME"] = kiteflowHome, ["XDG_DATA_HOME"] = xdgDataHome, ["HOME"] = home };

        var directory = CredentialStore.DefaultDirectory(name => variables.GetValueOrDefault(name));

        Assert.Equal(Path.GetFullPath(expected), Path.GetFullPath(directory));
    }

    [Fact]
    public void FromEnvironment_UsesKiteflowHomeAndMasterKeyFromTheVariables()
    {
        var key = NewKey();
        var variables = new Dictionary<string, string?> { ["KITEFLOW_HOME"] = _directory, ["KITEFLOW_MASTER_KEY"] = key };

        CredentialStore.FromEnvironment(name => variables.GetValueOrDefault(name)).Add("acme", Token);

        Assert.Equal(Path.Combine(_directory, CredentialStore.FileName), CredentialStore.FromEnvironment(name => variables.GetValueOrDefault(name)).FilePath);
        Assert.False(File.Exists(Path.Combine(_directory, CredentialStore.KeyFileName)));
        Assert.Equal(Token, Store(key).Get("acme").RevealToken());
    }
}
