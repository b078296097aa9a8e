using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kiteflow.Sandbox.Faulting;

/// <summary>Reading and checking fault rules: <c>{"rules": [{...}]}</c>, or a bare array of rules.</summary>
internal static class FaultRules
{
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Parses rules and checks them, reporting every problem at once.</summary>
    public static List<SandboxFaultRule> Parse(string json, out List<string> errors)
    {
        errors = [];
        var rules = new List<SandboxFaultRule>();
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = document.RootElement;
            var array = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("rules", out var r) ? r : root;
            if (array.ValueKind != JsonValueKind.Array)
            {
                errors.Add("rules: expected {\"rules\": [ ... ]} or an array of rules.");
                return [];
            }

            // Rule by rule, so that one bad rule does not hide the problems of the others.
            var i = 0;
            foreach (var element in array.EnumerateArray())
            {
                var at = $"rules[{i++}]";
                if (element.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{at}: must be an object.");
                    continue;
                }

                try
                {
                    var rule = element.Deserialize<SandboxFaultRule>(Json)!;
                    errors.AddRange(Validate(rule, at));
                    rules.Add(rule);
                }
                catch (JsonException e)
                {
                    errors.Add($"{at}: {e.Message} (when is before|after; action is respond|drop|hang|delay).");
                }
            }
        }
        catch (JsonException e)
        {
            errors.Add($"rules: not valid JSON: {e.Message}");
        }

        return rules;
    }

    public static IEnumerable<string> Validate(SandboxFaultRule rule, string at)
    {
        if (string.IsNullOrWhiteSpace(rule.Path) || !rule.Path.StartsWith('/'))
        {
            yield return $"{at}.path: '{rule.Path}' must start with '/', e.g. /v2/organizations/*/pipelines/*/builds.";
        }

        if (rule.Probability is < 0 or > 1 || double.IsNaN(rule.Probability))
        {
            yield return $"{at}.probability: {rule.Probability} must be between 0 and 1.";
        }

        if (rule.Count is < 0)
        {
            yield return $"{at}.count: {rule.Count} must be null (unlimited) or 0 or more.";
        }

        if (rule.Status is < 100 or > 599)
        {
            yield return $"{at}.status: {rule.Status} is not an HTTP status (100-599).";
        }

        if (rule.DelayMs < 0)
        {
            yield return $"{at}.delayMs: {rule.DelayMs} must be 0 or more.";
        }

        if (!Enum.IsDefined(rule.When))
        {
            yield return $"{at}.when: must be \"before\" or \"after\".";
        }

        if (!Enum.IsDefined(rule.Action))
        {
            yield return $"{at}.action: must be \"respond\", \"drop\", \"hang\" or \"delay\".";
        }
    }
}
