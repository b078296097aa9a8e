using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiteflow.Server.Audit;

/// <summary>What changed between two settings documents: one entry per leaf path, <c>{path, from, to}</c>.</summary>
public static class SettingsDiff
{
    /// <summary>The changes from <paramref name="before"/> to <paramref name="after"/> (JSON texts; comments allowed).</summary>
    /// <returns>An array of <c>{"path", "from", "to"}</c>; a missing side is left out.</returns>
    public static JsonArray Between(string? before, string? after)
    {
        var old = Flatten(before);
        var now = Flatten(after);
        var changes = new JsonArray();
        foreach (var path in old.Keys.Union(now.Keys).Order(StringComparer.Ordinal))
        {
            old.TryGetValue(path, out var from);
            now.TryGetValue(path, out var to);
            if (from == to)
            {
                continue;
            }

            var change = new JsonObject { ["path"] = path };
            if (from is not null)
            {
                change["from"] = JsonNode.Parse(from);
            }

            if (to is not null)
            {
                change["to"] = JsonNode.Parse(to);
            }

            changes.Add(change);
        }

        return changes;
    }

    private static Dictionary<string, string> Flatten(string? json)
    {
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
        {
            return leaves;
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            Walk(document.RootElement, string.Empty, leaves);
        }
        catch (JsonException)
        {
            leaves["(text)"] = JsonSerializer.Serialize(json);
        }

        return leaves;
    }

    private static void Walk(JsonElement element, string path, Dictionary<string, string> leaves)
    {
        if (element.ValueKind == JsonValueKind.Object && element.EnumerateObject().Any())
        {
            foreach (var property in element.EnumerateObject())
            {
                Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", leaves);
            }
        }
        else
        {
            leaves[path.Length == 0 ? "(root)" : path] = element.GetRawText();
        }
    }
}
