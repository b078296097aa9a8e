namespace Kiteflow.Storage;

/// <summary>
/// Everything the server keeps: one store, split into focused parts. Every implementation (SQLite, PostgreSQL) must
/// pass the contract suite in tests/Kiteflow.Storage.Tests.
/// </summary>
public interface IKiteflowStore : IAsyncDisposable
{
    /// <summary>Datasets, their records, read rejections and ingest idempotency keys.</summary>
    IDatasetStore Datasets { get; }

    /// <summary>Users and their API keys.</summary>
    IUserStore Users { get; }

    /// <summary>Buildkite credentials, their tokens sealed.</summary>
    ICredentialStore Credentials { get; }

    /// <summary>Destinations: dataset + credential + settings, with their state.</summary>
    IDestinationStore Destinations { get; }

    /// <summary>Delivery: each destination's ledger, progress, runs and records not delivered.</summary>
    IDeliveryStore Delivery { get; }

    /// <summary>The audit log.</summary>
    IAuditStore Audit { get; }

    /// <summary>A short description for logs and health reports, e.g. <c>sqlite:/home/me/.local/share/kiteflow/kiteflow.db</c>.</summary>
    string Description { get; }

    /// <summary>Creates the schema or brings it up to date (versioned steps, each applied once, in order).</summary>
    /// <returns>The schema version after migrating.</returns>
    /// <exception cref="StoreException">The store is newer than this Kiteflow, or cannot be reached.</exception>
    Task<int> MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Null when the store answers a trivial query; else why not (for <c>/healthz</c>).</summary>
    Task<string?> CheckAsync(CancellationToken cancellationToken);
}
