namespace Kiteflow.Storage;

/// <summary>A stored destination.</summary>
/// <param name="Id">The store's id; never reused.</param>
/// <param name="Name">The name, unique among destinations that are not deleted.</param>
/// <param name="DatasetId">The dataset it reads.</param>
/// <param name="CredentialId">The credential it sends with.</param>
/// <param name="SettingsJson">The settings: the text of a destination file.</param>
/// <param name="State">Its state.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="Version">Bumped by every change; a change names the version it read.</param>
public sealed record DestinationRow(long Id, string Name, long DatasetId, long CredentialId, string SettingsJson, DestinationState State, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long Version);
