using Microsoft.Data.Sqlite;
using static Kiteflow.Storage.Sqlite.SqliteReads;

namespace Kiteflow.Storage.Sqlite;

/// <summary>Credentials in SQLite: the sealed token as three blobs and the master key's id.</summary>
internal sealed class SqliteCredentialStore(SqliteDatabase database) : ICredentialStore
{
    private const string Columns = "id, name, kind, api_base, key_id, nonce, ciphertext, tag, created_at, updated_at";

    public Task<CredentialRow> CreateAsync(NewCredential credential, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return database.WriteAsync((connection, transaction) => SqliteErrors.NameTaken(
            () =>
            {
                var at = StoreTime.Text(credential.CreatedAt);
                using var command = Command(
                    connection,
                    transaction,
                    $"INSERT INTO credentials (name, kind, api_base, key_id, nonce, ciphertext, tag, created_at, updated_at) VALUES ($name, $kind, $base, $key, $nonce, $ciphertext, $tag, $at, $at) RETURNING {Columns}",
                    ("$name", credential.Name),
                    ("$kind", KindText(credential.Kind)),
                    ("$base", credential.ApiBase),
                    ("$key", credential.Secret.KeyId),
                    ("$nonce", credential.Secret.Nonce),
                    ("$ciphertext", credential.Secret.Ciphertext),
                    ("$tag", credential.Secret.Tag),
                    ("$at", at));
                return ReadOne(command, Read)!;
            },
            "credential",
            credential.Name), cancellationToken);
    }

    public Task<CredentialRow?> GetAsync(string name, CancellationToken cancellationToken) =>
        OneAsync(database, $"SELECT {Columns} FROM credentials WHERE name = $name", Read, cancellationToken, ("$name", name));

    public Task<CredentialRow?> GetByIdAsync(long id, CancellationToken cancellationToken) =>
        OneAsync(database, $"SELECT {Columns} FROM credentials WHERE id = $id", Read, cancellationToken, ("$id", id));

    public async Task<IReadOnlyList<CredentialRow>> ListAsync(CancellationToken cancellationToken) =>
        await SqliteReads.ListAsync(database, $"SELECT {Columns} FROM credentials ORDER BY name", Read, cancellationToken).ConfigureAwait(false);

    public Task<CredentialRow?> ReplaceSecretAsync(long id, string apiBase, SealedSecret secret, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return database.WriteAsync((connection, transaction) =>
        {
            using var command = Command(
                connection,
                transaction,
                $"UPDATE credentials SET api_base = $base, key_id = $key, nonce = $nonce, ciphertext = $ciphertext, tag = $tag, updated_at = $at WHERE id = $id RETURNING {Columns}",
                ("$base", apiBase),
                ("$key", secret.KeyId),
                ("$nonce", secret.Nonce),
                ("$ciphertext", secret.Ciphertext),
                ("$tag", secret.Tag),
                ("$at", StoreTime.Text(at)),
                ("$id", id));
            return ReadOne(command, Read);
        }, cancellationToken);
    }

    public Task<bool> DeleteAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            using var users = Command(connection, transaction, "SELECT name FROM destinations WHERE credential_id = $id AND state <> 'deleted' ORDER BY name LIMIT 1", ("$id", id));
            if (users.ExecuteScalar() is string user)
            {
                throw new StoreConflictException(StoreConflict.InUse, $"the destination '{user}' sends with this credential; delete that destination or give it another credential first.");
            }

            using var command = Command(connection, transaction, "DELETE FROM credentials WHERE id = $id", ("$id", id));
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);

    private static string KindText(CredentialKind kind) => kind == CredentialKind.Sandbox ? "sandbox" : "buildkite";

    private static CredentialRow Read(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.GetString(2) == "sandbox" ? CredentialKind.Sandbox : CredentialKind.Buildkite,
        r.GetString(3),
        new SealedSecret(r.GetString(4), r.GetFieldValue<byte[]>(5), r.GetFieldValue<byte[]>(6), r.GetFieldValue<byte[]>(7)),
        StoreTime.Parse(r.GetString(8)),
        StoreTime.Parse(r.GetString(9)));
}
