namespace Kiteflow.Storage;

/// <summary>A destination's new dataset, credential and settings.</summary>
/// <param name="DatasetId">The dataset it reads.</param>
/// <param name="CredentialId">The credential it sends with.</param>
/// <param name="SettingsJson">The settings: the text of a destination file.</param>
/// <param name="At">When.</param>
public sealed record DestinationChange(long DatasetId, long CredentialId, string SettingsJson, DateTimeOffset At);
