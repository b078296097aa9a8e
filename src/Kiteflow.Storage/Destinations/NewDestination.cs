namespace Kiteflow.Storage;

/// <summary>What creating a destination needs.</summary>
/// <param name="Name">The unique name.</param>
/// <param name="DatasetId">The dataset it reads.</param>
/// <param name="CredentialId">The credential it sends with.</param>
/// <param name="SettingsJson">The settings: the text of a destination file.</param>
/// <param name="CreatedAt">When.</param>
public sealed record NewDestination(string Name, long DatasetId, long CredentialId, string SettingsJson, DateTimeOffset CreatedAt);
