namespace Kiteflow.Storage;

/// <summary>Why a change was refused.</summary>
public enum StoreConflict
{
    /// <summary>Another item already has that name.</summary>
    NameTaken,

    /// <summary>The item changed since it was read (optimistic concurrency: the version differs).</summary>
    VersionMismatch,

    /// <summary>The item is used by another (a dataset or credential by a destination).</summary>
    InUse,

    /// <summary>The item does not exist (any more).</summary>
    NotFound,

    /// <summary>
    /// A destination's write carried a stale fence: another process (or activation) acquired the destination since, and
    /// it alone writes the destination's ledger and progress now.
    /// </summary>
    Fenced,
}
