namespace Kiteflow.Storage;

/// <summary>A dataset's ingest key as the store keeps it.</summary>
/// <param name="Hash">SHA-256 of the key, lower-case hex.</param>
/// <param name="Prefix">The key's first characters, shown in lists.</param>
/// <param name="RequireSignature">Whether ingest requests must be signed.</param>
public sealed record IngestKeySettings(string Hash, string Prefix, bool RequireSignature);
