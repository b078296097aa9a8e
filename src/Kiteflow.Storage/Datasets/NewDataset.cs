namespace Kiteflow.Storage;

/// <summary>What creating a dataset needs.</summary>
/// <param name="Name">The unique name (a slug; the caller checks it).</param>
/// <param name="Source">Where its records come from.</param>
/// <param name="IngestKey">Its ingest key's hash and prefix.</param>
/// <param name="CreatedAt">When.</param>
public sealed record NewDataset(string Name, DatasetSource Source, IngestKeySettings IngestKey, DateTimeOffset CreatedAt);
