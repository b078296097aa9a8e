namespace Kiteflow.Storage;

/// <summary>The store could not do what was asked, for a reason that is not a conflict (unreachable, damaged, too new).</summary>
public class StoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public StoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
