using Microsoft.Data.Sqlite;
using static Kiteflow.Storage.Sqlite.SqliteReads;

namespace Kiteflow.Storage.Sqlite;

/// <summary>Users and API keys in SQLite.</summary>
internal sealed class SqliteUserStore(SqliteDatabase database) : IUserStore
{
    private const string UserColumns = "id, name, password_hash, role, created_at";
    private const string KeyColumns = "k.id, k.user_id, u.name, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at";

    public Task<UserRow> CreateAsync(string name, string passwordHash, string role, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => SqliteErrors.NameTaken(
            () =>
            {
                using var command = Command(connection, transaction, $"INSERT INTO users (name, password_hash, role, created_at) VALUES ($name, $hash, $role, $at) RETURNING {UserColumns}", ("$name", name), ("$hash", passwordHash), ("$role", role), ("$at", StoreTime.Text(at)));
                return ReadOne(command, ReadUser)!;
            },
            "user",
            name), cancellationToken);

    public Task<UserRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        OneAsync(database, $"SELECT {UserColumns} FROM users WHERE name = $name", ReadUser, cancellationToken, ("$name", name));

    public Task<UserRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        OneAsync(database, $"SELECT {UserColumns} FROM users WHERE id = $id", ReadUser, cancellationToken, ("$id", id));

    public async Task<long> CountAsync(CancellationToken cancellationToken) =>
        (await ListAsync(database, "SELECT COUNT(*) FROM users", r => r.GetInt64(0), cancellationToken).ConfigureAwait(false))[0];

    public Task<bool> SetPasswordHashAsync(long userId, string passwordHash, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, "UPDATE users SET password_hash = $hash WHERE id = $id", ("$hash", passwordHash), ("$id", userId));
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);

    public Task<ApiKeyRow> CreateApiKeyAsync(NewApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return database.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, "INSERT INTO api_keys (user_id, name, prefix, hash, created_at) VALUES ($user, $name, $prefix, $hash, $at) RETURNING id", ("$user", key.UserId), ("$name", key.Name), ("$prefix", key.Prefix), ("$hash", key.Hash), ("$at", StoreTime.Text(key.CreatedAt)));
            var id = (long)command.ExecuteScalar()!;
            using var read = Command(connection, transaction, $"SELECT {KeyColumns} FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $id", ("$id", id));
            return ReadOne(read, ReadKey)!;
        }, cancellationToken);
    }

    public Task<ApiKeyRow?> FindApiKeyAsync(string hash, CancellationToken cancellationToken) =>
        OneAsync(database, $"SELECT {KeyColumns} FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = $hash AND k.revoked_at IS NULL", ReadKey, cancellationToken, ("$hash", hash));

    public async Task<IReadOnlyList<ApiKeyRow>> ListApiKeysAsync(CancellationToken cancellationToken) =>
        await ListAsync(database, $"SELECT {KeyColumns} FROM api_keys k JOIN users u ON u.id = k.user_id ORDER BY k.id DESC", ReadKey, cancellationToken).ConfigureAwait(false);

    public Task<bool> RevokeApiKeyAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, "UPDATE api_keys SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL", ("$at", StoreTime.Text(at)), ("$id", id));
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);

    public Task TouchApiKeyAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, "UPDATE api_keys SET last_used_at = $at WHERE id = $id", ("$at", StoreTime.Text(at)), ("$id", id));
            return command.ExecuteNonQuery();
        }, cancellationToken);

    private static UserRow ReadUser(SqliteDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), StoreTime.Parse(r.GetString(4)));

    private static ApiKeyRow ReadKey(SqliteDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), StoreTime.Parse(r.GetString(5)), NullableTime(r, 6), NullableTime(r, 7));
}
