using System.Text.Json.Serialization;

namespace Kiteflow.Delivery.Credentials;

/// <summary>One entry: what can be shown in the clear, the key's id, and the sealed token (base64).</summary>
internal sealed class StoredCredential
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("apiBase")]
    public string? ApiBase { get; set; }

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; set; }

    [JsonPropertyName("keyId")]
    public string? KeyId { get; set; }

    [JsonPropertyName("nonce")]
    public string? Nonce { get; set; }

    [JsonPropertyName("ciphertext")]
    public string? Ciphertext { get; set; }

    [JsonPropertyName("tag")]
    public string? Tag { get; set; }
}
