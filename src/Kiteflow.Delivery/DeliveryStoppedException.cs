namespace Kiteflow.Delivery;

/// <summary>
/// Delivery cannot start or go on (the token is refused or lacks the endpoint's scope, the ledger
/// cannot be written). Single records never cause this: they are rejected and the run goes on.
/// </summary>
public sealed class DeliveryStoppedException : Exception
{
    /// <summary>Creates the exception with a message that says what is wrong and what to do.</summary>
    public DeliveryStoppedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public DeliveryStoppedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
