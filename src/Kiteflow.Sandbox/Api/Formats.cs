using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Api;

/// <summary>How the sandbox writes JSON, timestamps and ids.</summary>
internal static class Formats
{
    public static JsonSerializerOptions Json { get; } = new()
    {
        // Buildkite answers UTF-8 JSON; an emoji stays an emoji.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonWriterOptions Writer { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonNodeOptions NodeOptions { get; } = new() { PropertyNameCaseInsensitive = false };

    public static JsonDocumentOptions DocumentOptions { get; } = new() { MaxDepth = 64 };

    /// <summary>ISO-8601 UTC with milliseconds, e.g. <c>2015-05-09T21:05:59.874Z</c>.</summary>
    public static string? Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The older style some endpoints use, e.g. <c>2015-03-01 06:44:40 UTC</c>.</summary>
    public static string? SpacedTime(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A GraphQL id: base64 of <c>Type---uuid</c>.</summary>
    public static string GraphQlId(string type, Guid id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{type}---{id:D}"));

    public static JsonNode? Node(string? value) => value is null ? null : JsonValue.Create(value);
}
