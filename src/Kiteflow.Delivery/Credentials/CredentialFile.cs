using System.Text.Json.Serialization;

namespace Kiteflow.Delivery.Credentials;

/// <summary>The credentials file as JSON (docs/credentials.md shows it): a version and the sealed entries.</summary>
internal sealed class CredentialFile
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")]
    public int Version { get; set; } = CurrentVersion;

    [JsonPropertyName("credentials")]
    public List<StoredCredential> Credentials { get; set; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CredentialFile))]
internal sealed partial class CredentialFileJsonContext : JsonSerializerContext;
