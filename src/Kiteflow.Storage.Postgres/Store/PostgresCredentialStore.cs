using Npgsql;
using static Kiteflow.Storage.Postgres.Store.PostgresCommands;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>Credentials in PostgreSQL: the sealed token as three bytea columns and the master key's id.</summary>
internal sealed class PostgresCredentialStore(NpgsqlDataSource source) : ICredentialStore
{
    private const string Columns = "id, name, kind, api_base, key_id, nonce, ciphertext, tag, created_at, updated_at";

    public Task<CredentialRow> CreateAsync(NewCredential credential, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return NameTakenAsync(
            async () => (await OneAsync(
                source,
                $"INSERT INTO credentials (name, kind, api_base, key_id, nonce, ciphertext, tag, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {Columns}",
                Read,
                cancellationToken,
                Text(credential.Name),
                Text(KindText(credential.Kind)),
                Text(credential.ApiBase),
                Text(credential.Secret.KeyId),
                Bytes(credential.Secret.Nonce),
                Bytes(credential.Secret.Ciphertext),
                Bytes(credential.Secret.Tag),
                Time(credential.CreatedAt)).ConfigureAwait(false))!,
            "credential",
            credential.Name);
    }

    public Task<CredentialRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {Columns} FROM credentials WHERE name = $1", Read, cancellationToken, Text(name));

    public Task<CredentialRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        OneAsync(source, $"SELECT {Columns} FROM credentials WHERE id = $1", Read, cancellationToken, Long(id));

    public async Task<IReadOnlyList<CredentialRow>> ListAsync(CancellationToken cancellationToken) =>
        await PostgresCommands.ListAsync(source, $"SELECT {Columns} FROM credentials ORDER BY name COLLATE \"C\"", Read, cancellationToken).ConfigureAwait(false);

    public Task<CredentialRow?> ReplaceSecretAsync(long id, string apiBase, SealedSecret secret, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return OneAsync(
            source,
            $"UPDATE credentials SET api_base = $2, key_id = $3, nonce = $4, ciphertext = $5, tag = $6, updated_at = $7 WHERE id = $1 RETURNING {Columns}",
            Read,
            cancellationToken,
            Long(id),
            Text(apiBase),
            Text(secret.KeyId),
            Bytes(secret.Nonce),
            Bytes(secret.Ciphertext),
            Bytes(secret.Tag),
            Time(at));
    }

    public async Task<bool> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // The row lock waits for destinations being saved with this credential (they take FOR KEY SHARE).
                await using (var exists = Command(connection, transaction, "SELECT id FROM credentials WHERE id = $1 FOR UPDATE", Long(id)))
                {
                    if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                    {
                        return false;
                    }
                }

                await using (var users = Command(connection, transaction, "SELECT name FROM destinations WHERE credential_id = $1 AND state <> 'deleted' ORDER BY name COLLATE \"C\" LIMIT 1", Long(id)))
                {
                    if (await users.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string user)
                    {
                        throw new StoreConflictException(StoreConflict.InUse, $"the destination '{user}' sends with this credential; delete that destination or give it another credential first.");
                    }
                }

                await using (var delete = Command(connection, transaction, "DELETE FROM credentials WHERE id = $1", Long(id)))
                {
                    await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    private static string KindText(CredentialKind kind) => kind == CredentialKind.Sandbox ? "sandbox" : "buildkite";

    private static CredentialRow Read(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetString(2) == "sandbox" ? CredentialKind.Sandbox : CredentialKind.Buildkite,
        r.GetString(3),
        new SealedSecret(r.GetString(4), r.GetFieldValue<byte[]>(5), r.GetFieldValue<byte[]>(6), r.GetFieldValue<byte[]>(7)),
        Time(r, 8),
        Time(r, 9));
}
