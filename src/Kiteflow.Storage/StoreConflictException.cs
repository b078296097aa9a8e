namespace Kiteflow.Storage;

/// <summary>A change refused because of the store's current state: the caller can tell the user what to do.</summary>
public sealed class StoreConflictException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public StoreConflictException(StoreConflict conflict, string message)
        : base(message)
    {
        Conflict = conflict;
    }

    /// <summary>What kind of conflict.</summary>
    public StoreConflict Conflict { get; }
}
