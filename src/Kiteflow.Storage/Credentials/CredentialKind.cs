namespace Kiteflow.Storage;

/// <summary>What a credential points at.</summary>
public enum CredentialKind
{
    /// <summary>Buildkite (or a proxy the user named): real calls.</summary>
    Buildkite,

    /// <summary>The sandbox the server hosts: nothing real is reached.</summary>
    Sandbox,
}
