namespace Kiteflow.Storage.Sqlite;

/// <summary>
/// The schema as ordered steps, each applied once in its own transaction together with its row in
/// <c>schema_version</c>. Never edit a step that has shipped: add the next one.
/// </summary>
internal static class SqliteMigrations
{
    /// <summary>Records of every dataset share one table; a record's rowid is <c>dataset_id &lt;&lt; 40 | offset</c>, so each
    /// dataset's records are one contiguous, ordered range of the table's only b-tree (appends go to its end, reads are range scans).</summary>
    public const int OffsetBits = 40;

    public static IReadOnlyList<(int Version, string Name, string Sql)> Steps { get; } =
    [
        (1, "datasets, records, users, api keys, credentials, destinations, audit log", """
            CREATE TABLE datasets (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                source TEXT NOT NULL,
                record_count INTEGER NOT NULL DEFAULT 0,
                rejected_count INTEGER NOT NULL DEFAULT 0,
                ingest_key_hash TEXT NOT NULL,
                ingest_key_prefix TEXT NOT NULL,
                require_signature INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                last_append_at TEXT
            );
            CREATE TABLE records (
                id INTEGER PRIMARY KEY,
                json BLOB NOT NULL
            );
            CREATE TABLE dataset_schema (
                dataset_id INTEGER NOT NULL,
                path TEXT NOT NULL,
                ordinal INTEGER NOT NULL,
                types INTEGER NOT NULL,
                records INTEGER NOT NULL,
                PRIMARY KEY (dataset_id, path)
            ) WITHOUT ROWID;
            CREATE TABLE read_rejections (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                dataset_id INTEGER NOT NULL,
                line INTEGER,
                item INTEGER NOT NULL,
                message TEXT NOT NULL,
                origin TEXT NOT NULL,
                at TEXT NOT NULL
            );
            CREATE INDEX read_rejections_by_dataset ON read_rejections (dataset_id, id);
            CREATE TABLE idempotency_keys (
                dataset_id INTEGER NOT NULL,
                key TEXT NOT NULL,
                first_offset INTEGER NOT NULL,
                count INTEGER NOT NULL,
                response TEXT,
                at TEXT NOT NULL,
                PRIMARY KEY (dataset_id, key)
            ) WITHOUT ROWID;
            CREATE TABLE users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE api_keys (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id INTEGER NOT NULL REFERENCES users (id),
                name TEXT NOT NULL,
                prefix TEXT NOT NULL,
                hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                last_used_at TEXT,
                revoked_at TEXT
            );
            CREATE TABLE credentials (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                api_base TEXT NOT NULL,
                key_id TEXT NOT NULL,
                nonce BLOB NOT NULL,
                ciphertext BLOB NOT NULL,
                tag BLOB NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE destinations (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                dataset_id INTEGER NOT NULL,
                credential_id INTEGER NOT NULL,
                settings TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                version INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX destinations_live_name ON destinations (name) WHERE state <> 'deleted';
            CREATE INDEX destinations_by_dataset ON destinations (dataset_id);
            CREATE INDEX destinations_by_credential ON destinations (credential_id);
            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                resource_name TEXT,
                details TEXT
            );
            CREATE INDEX audit_by_resource ON audit_log (resource_type, resource_name, id);
            """),

        (2, "delivery: ledger, destination progress, runs, rejected records", """
            CREATE TABLE ledger (
                run TEXT NOT NULL,
                first_position INTEGER NOT NULL,
                positions TEXT NOT NULL,
                state INTEGER NOT NULL,
                attempts INTEGER NOT NULL,
                delivery_id TEXT,
                status INTEGER,
                message TEXT,
                response TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (run, first_position)
            ) WITHOUT ROWID;
            CREATE TABLE destination_progress (
                destination_id INTEGER PRIMARY KEY,
                cursor INTEGER NOT NULL DEFAULT 0,
                claim_from INTEGER,
                claim_to INTEGER,
                claim_settings TEXT,
                retry_generation INTEGER NOT NULL DEFAULT 0,
                last_retry_generation INTEGER NOT NULL DEFAULT 0,
                delivered INTEGER NOT NULL DEFAULT 0,
                rejected INTEGER NOT NULL DEFAULT 0,
                possibly_delivered INTEGER NOT NULL DEFAULT 0,
                requests INTEGER NOT NULL DEFAULT 0,
                retries INTEGER NOT NULL DEFAULT 0,
                rate_limit_waits INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                last_error_at TEXT,
                run_id INTEGER,
                updated_at TEXT
            );
            CREATE TABLE delivery_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                destination_id INTEGER NOT NULL,
                started_at TEXT NOT NULL,
                reason TEXT NOT NULL,
                ended_at TEXT,
                end_reason TEXT,
                delivered INTEGER NOT NULL DEFAULT 0,
                rejected INTEGER NOT NULL DEFAULT 0,
                possibly_delivered INTEGER NOT NULL DEFAULT 0,
                requests INTEGER NOT NULL DEFAULT 0,
                retries INTEGER NOT NULL DEFAULT 0,
                rate_limit_waits INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            );
            CREATE INDEX delivery_runs_by_destination ON delivery_runs (destination_id, id);
            CREATE TABLE rejected_records (
                destination_id INTEGER NOT NULL,
                record_offset INTEGER NOT NULL,
                stage TEXT NOT NULL,
                message TEXT NOT NULL,
                status INTEGER,
                response TEXT,
                possibly_delivered INTEGER NOT NULL,
                retryable INTEGER NOT NULL,
                at TEXT NOT NULL,
                retry_generation INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (destination_id, record_offset)
            ) WITHOUT ROWID;
            """),
        (3, "delivery: a fencing epoch and a lease per destination", """
            ALTER TABLE destination_progress ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE destination_progress ADD COLUMN lease_until TEXT;
            """),
    ];

    public static int Latest => Steps[^1].Version;
}
