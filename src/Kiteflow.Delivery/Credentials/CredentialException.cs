namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// The credential store could not do what was asked, for a reason the user can act on: the message says what
/// and what to do, and never contains a token or a key.
/// </summary>
internal sealed class CredentialException : Exception
{
    public CredentialException(CredentialErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What went wrong.</summary>
    public CredentialErrorKind Kind { get; }
}
