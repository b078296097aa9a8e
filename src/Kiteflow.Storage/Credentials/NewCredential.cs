namespace Kiteflow.Storage;

/// <summary>What storing a credential needs.</summary>
/// <param name="Name">The unique name.</param>
/// <param name="Kind">Sandbox or Buildkite.</param>
/// <param name="ApiBase">Where the token may be sent, e.g. <c>https://api.buildkite.com</c>.</param>
/// <param name="Secret">The sealed token.</param>
/// <param name="CreatedAt">When.</param>
public sealed record NewCredential(string Name, CredentialKind Kind, string ApiBase, SealedSecret Secret, DateTimeOffset CreatedAt);
