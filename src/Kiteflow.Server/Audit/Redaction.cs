using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kiteflow.Server.Audit;

/// <summary>Hides secrets in audit details: values under secret-looking keys, and secret-looking headers of a headers setting.</summary>
internal static partial class Redaction
{
    public const string Hidden = "••••";

    public static JsonNode Redact(JsonNode node)
    {
        var copy = node.DeepClone();
        Walk(copy);
        return copy;
    }

    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    /// <summary>Hides the values of secret-looking headers in a <c>name:value,name:value</c> setting.</summary>
    public static string RedactHeaders(string headers) => SecretHeader().Replace(headers, m => m.Groups[1].Value + Hidden);

    private static void Walk(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (IsSecretName(name) && value is JsonValue)
                    {
                        obj[name] = Hidden;
                    }
                    else if (name == "headers" && value is JsonValue headers && headers.TryGetValue<string>(out var text))
                    {
                        obj[name] = RedactHeaders(text);
                    }
                    else if (obj["path"] is JsonValue path && path.TryGetValue<string>(out var p) && (name is "from" or "to") && value is JsonValue v)
                    {
                        // A diff entry: {path, from, to}.
                        if (IsSecretName(p.Split('.')[^1]))
                        {
                            obj[name] = Hidden;
                        }
                        else if (p == "headers" && v.TryGetValue<string>(out var h))
                        {
                            obj[name] = RedactHeaders(h);
                        }
                    }
                    else
                    {
                        Walk(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Walk(item);
                }

                break;
        }
    }

    // The key's last word: accessToken, clientSecret, api_key, ingestKey — but not requireSignature or tokenCount.
    [GeneratedRegex(@"(?i)(token|password|passwd|secret|authorization|api[-_]?key|private[-_]?key|ingest[-_]?key)$")]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?i)((?:^|,)\s*""?[^:,]*(?:token|secret|key|auth|password|signature)[^:,]*:)[^,]*")]
    private static partial Regex SecretHeader();
}
