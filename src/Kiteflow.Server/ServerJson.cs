using System.Text.Json;
using System.Text.Json.Serialization;
using Kiteflow.Core.Json;

namespace Kiteflow.Server;

/// <summary>The JSON the API writes: camelCase, enums as strings, text as written (no needless escapes).</summary>
internal static class ServerJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.Encoder = MinimalJsonEncoder.Instance;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower));
        return options;
    }
}
