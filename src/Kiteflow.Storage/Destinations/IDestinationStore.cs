namespace Kiteflow.Storage;

/// <summary>
/// Destinations. Every change checks the version the caller read (optimistic concurrency) and bumps it.
/// Deleting sets <see cref="DestinationState.Deleted"/> and frees the name; the row stays for the records that refer to it.
/// </summary>
public interface IDestinationStore
{
    /// <summary>Creates a destination (version 1).</summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.NameTaken"/>.</exception>
    Task<DestinationRow> CreateAsync(NewDestination destination, CancellationToken cancellationToken);

    /// <summary>The destination of that name that is not deleted, or null.</summary>
    Task<DestinationRow?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>The destination of that id (deleted ones too), or null.</summary>
    Task<DestinationRow?> GetByIdAsync(long id, CancellationToken cancellationToken);

    /// <summary>The destinations that are not deleted (or only those in <paramref name="state"/>), by name.</summary>
    Task<IReadOnlyList<DestinationRow>> ListAsync(DestinationState? state, CancellationToken cancellationToken);

    /// <summary>Replaces dataset, credential and settings.</summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.VersionMismatch"/> or <see cref="StoreConflict.NotFound"/>.</exception>
    Task<DestinationRow> UpdateAsync(long id, long expectedVersion, DestinationChange change, CancellationToken cancellationToken);

    /// <summary>Moves a destination to another state (deleting frees its name).</summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.VersionMismatch"/> or <see cref="StoreConflict.NotFound"/>.</exception>
    Task<DestinationRow> SetStateAsync(long id, long expectedVersion, DestinationState state, DateTimeOffset at, CancellationToken cancellationToken);
}
