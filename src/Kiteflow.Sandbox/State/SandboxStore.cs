using System.Security.Cryptography;
using System.Text;

namespace Kiteflow.Sandbox.State;

/// <summary>
/// The sandbox's whole world. One lock guards it: a request takes <see cref="Gate"/>, reads or changes
/// entities and renders its answer, all in memory, which keeps the state consistent and is cheap enough
/// for tens of thousands of builds and many concurrent clients.
/// </summary>
internal sealed class SandboxStore(TimeProvider time, IdGenerator ids)
{
    public Lock Gate { get; } = new();

    public TimeProvider Time { get; } = time;

    public IdGenerator Ids { get; } = ids;

    public List<UserEntity> Users { get; } = [];

    public List<TokenEntity> Tokens { get; } = [];

    public List<OrganizationEntity> Organizations { get; } = [];

    public DateTimeOffset Now => Time.GetUtcNow();

    public OrganizationEntity? FindOrganization(string slug) =>
        Organizations.Find(o => string.Equals(o.Slug, slug, StringComparison.OrdinalIgnoreCase));

    public UserEntity? FindUserByEmail(string email) =>
        Users.Find(u => string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase));

    public UserEntity? FindUser(Guid id) => Users.Find(u => u.Id == id);

    public void Clear()
    {
        Users.Clear();
        Tokens.Clear();
        Organizations.Clear();
    }

    public TokenEntity AddToken(SandboxToken token)
    {
        var user = token.UserEmail is null
            ? Users.FirstOrDefault() ?? throw new InvalidOperationException("The seed has no user to own the token.")
            : FindUserByEmail(token.UserEmail)
              ?? throw new ArgumentException($"Token {token}: user '{token.UserEmail}' is not in the seed; add it to the seed's users.", nameof(token));
        return AddToken(token.Value, token.Scopes, user, token.Description ?? "Sandbox token", token.Organizations, null);
    }

    public TokenEntity AddToken(
        string value, IReadOnlyList<string> scopes, UserEntity user, string description, IReadOnlyList<string>? organizations, DateTimeOffset? expiresAt)
    {
        var entity = new TokenEntity
        {
            Id = Ids.NewGuid(),
            Value = value,
            ValueHash = Hash(value),
            Scopes = scopes,
            User = user,
            Description = description,
            Organizations = organizations,
            CreatedAt = Now,
            ExpiresAt = expiresAt,
        };

        // A token given twice (seed and command line) takes its latest scopes.
        Tokens.RemoveAll(t => CryptographicOperations.FixedTimeEquals(t.ValueHash, entity.ValueHash));
        Tokens.Add(entity);
        return entity;
    }

    /// <summary>
    /// Finds the token a client presented. Both sides are hashed to a fixed length and compared with
    /// <see cref="CryptographicOperations.FixedTimeEquals"/> against every token, so the time taken
    /// tells nothing about how much of a guess was right.
    /// </summary>
    public TokenEntity? FindToken(string presented)
    {
        var hash = Hash(presented);
        TokenEntity? found = null;
        foreach (var token in Tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(token.ValueHash, hash))
            {
                found = token;
            }
        }

        return found;
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
