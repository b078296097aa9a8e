namespace Kiteflow.Delivery.Credentials;

/// <summary>What can be shown of a stored credential without decrypting it: never the token.</summary>
/// <param name="Name">The credential's name.</param>
/// <param name="ApiBase">Where its token may be sent, e.g. <c>https://api.buildkite.com</c>.</param>
/// <param name="CreatedAt">When it was added.</param>
internal sealed record CredentialSummary(string Name, Uri ApiBase, DateTimeOffset CreatedAt);
