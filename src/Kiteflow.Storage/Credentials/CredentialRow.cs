namespace Kiteflow.Storage;

/// <summary>A stored credential: what can be shown, and the sealed token.</summary>
/// <param name="Id">The store's id.</param>
/// <param name="Name">The unique name.</param>
/// <param name="Kind">Sandbox or Buildkite.</param>
/// <param name="ApiBase">Where the token may be sent.</param>
/// <param name="Secret">The sealed token; never shown.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record CredentialRow(long Id, string Name, CredentialKind Kind, string ApiBase, SealedSecret Secret, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
