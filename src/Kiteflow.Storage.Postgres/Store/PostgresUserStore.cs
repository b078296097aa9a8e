using Npgsql;
using static Kiteflow.Storage.Postgres.Store.PostgresCommands;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>Users and API keys in PostgreSQL.</summary>
internal sealed class PostgresUserStore(NpgsqlDataSource source) : IUserStore
{
    private const string UserColumns = "id, name, password_hash, role, created_at";
    private const string KeyColumns = "k.id, k.user_id, u.name, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at";

    public Task<UserRow> CreateAsync(string name, string passwordHash, string role, DateTimeOffset at, CancellationToken cancellationToken) =>
        NameTakenAsync(
            async () => (await OneAsync(
                source,
                $"INSERT INTO users (name, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING {UserColumns}",
                ReadUser,
                cancellationToken,
                Text(name),
                Text(passwordHash),
                Text(role),
                Time(at)).ConfigureAwait(false))!,
            "user",
            name);

    public Task<UserRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {UserColumns} FROM users WHERE name = $1", ReadUser, cancellationToken, Text(name));

    public Task<UserRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {UserColumns} FROM users WHERE id = $1", ReadUser, cancellationToken, Long(id));

    public async Task<long> CountAsync(CancellationToken cancellationToken) =>
        (await PostgresCommands.ListAsync(source, "SELECT count(*) FROM users", r => r.GetInt64(0), cancellationToken).ConfigureAwait(false))[0];

    public async Task<bool> SetPasswordHashAsync(long userId, string passwordHash, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE users SET password_hash = $2 WHERE id = $1", cancellationToken, Long(userId), Text(passwordHash)).ConfigureAwait(false) > 0;

    public async Task<ApiKeyRow> CreateApiKeyAsync(NewApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return (await OneAsync(
            source,
            $"""
            WITH k AS (INSERT INTO api_keys (user_id, name, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *)
            SELECT {KeyColumns} FROM k JOIN users u ON u.id = k.user_id
            """,
            ReadKey,
            cancellationToken,
            Long(key.UserId),
            Text(key.Name),
            Text(key.Prefix),
            Text(key.Hash),
            Time(key.CreatedAt)).ConfigureAwait(false))!;
    }

    public Task<ApiKeyRow?> FindApiKeyAsync(string hash, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {KeyColumns} FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = $1 AND k.revoked_at IS NULL", ReadKey, cancellationToken, Text(hash));

    public async Task<IReadOnlyList<ApiKeyRow>> ListApiKeysAsync(CancellationToken cancellationToken) =>
        await PostgresCommands.ListAsync(source, $"SELECT {KeyColumns} FROM api_keys k JOIN users u ON u.id = k.user_id ORDER BY k.id DESC", ReadKey, cancellationToken).ConfigureAwait(false);

    public async Task<bool> RevokeApiKeyAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", cancellationToken, Long(id), Time(at)).ConfigureAwait(false) > 0;

    public Task TouchApiKeyAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", cancellationToken, Long(id), Time(at));

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = source.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static UserRow ReadUser(NpgsqlDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), Time(r, 4));

    private static ApiKeyRow ReadKey(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), Time(r, 5), NullableTime(r, 6), NullableTime(r, 7));
}
