namespace Kiteflow.Delivery.Credentials;

/// <summary>Why the credential store could not do what was asked.</summary>
internal enum CredentialErrorKind
{
    /// <summary>No credential has that name.</summary>
    NotFound,

    /// <summary>A credential already has that name (and replacing was not asked for).</summary>
    AlreadyExists,

    /// <summary><c>KITEFLOW_MASTER_KEY</c>, or the key file, does not hold the base64 of 32 bytes.</summary>
    InvalidMasterKey,

    /// <summary>The credential was stored with another master key (or the key it needs is gone).</summary>
    WrongMasterKey,

    /// <summary>The key is right but the credential does not decrypt: its ciphertext, name or API base was changed.</summary>
    Damaged,

    /// <summary>The store or key file cannot be read or written, or is not a credentials file.</summary>
    Unreadable,
}
