using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.State;

internal sealed record StepInfo(string Type, string? Name, string? Command, string? Key, IReadOnlyList<string> AgentQueryRules);

/// <summary>
/// Reads the steps of a pipeline, enough to give its builds jobs. The sandbox runs nothing, so a tolerant
/// scan of the YAML's step list (command, label, key, wait, block/input, trigger, agents) is all it needs;
/// it never rejects a configuration it does not understand.
/// </summary>
internal static class StepParser
{
    public static List<StepInfo> FromYaml(string? yaml)
    {
        var steps = new List<StepInfo>();
        if (string.IsNullOrWhiteSpace(yaml))
        {
            return steps;
        }

        var lines = yaml.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var start = Array.FindIndex(lines, l => l.TrimStart().StartsWith("steps:", StringComparison.Ordinal)
            || l.TrimStart().StartsWith("\"steps\":", StringComparison.Ordinal));
        var itemIndent = -1;
        Builder? current = null;
        var inAgents = false;
        for (var i = start + 1; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var indent = line.Length - line.TrimStart().Length;
            var text = line.Trim();
            if (start >= 0 && indent == 0 && !text.StartsWith('-'))
            {
                break;
            }

            if (text.StartsWith('-') && (itemIndent < 0 || indent == itemIndent))
            {
                itemIndent = indent;
                if (current is not null)
                {
                    steps.Add(current.Build());
                }

                current = new Builder();
                inAgents = false;
                text = text[1..].Trim();
                if (text.Length == 0)
                {
                    continue;
                }
            }

            if (current is null)
            {
                continue;
            }

            if (inAgents && text.StartsWith('-'))
            {
                current.Agents.Add(Unquote(text[1..].Trim()));
                continue;
            }

            inAgents = false;
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            var key = Unquote(colon < 0 ? text : text[..colon].Trim());
            var value = colon < 0 ? null : Unquote(text[(colon + 1)..].Trim());
            switch (key)
            {
                case "wait" or "waiter":
                    current.Type = "waiter";
                    break;
                case "block" or "input" or "manual":
                    current.Type = "manual";
                    current.Name ??= value;
                    break;
                case "trigger":
                    current.Type = "trigger";
                    current.Name ??= value;
                    break;
                case "label" or "name":
                    current.Name = value;
                    break;
                case "command" or "commands":
                    current.Command = string.IsNullOrEmpty(value) ? current.Command : value;
                    break;
                case "key" or "id" when value is not null:
                    current.Key = value;
                    break;
                case "agents":
                    inAgents = string.IsNullOrEmpty(value);
                    break;
                default:
                    break;
            }
        }

        if (current is not null)
        {
            steps.Add(current.Build());
        }

        return steps;
    }

    public static List<StepInfo> FromVisual(JsonArray? visual)
    {
        var steps = new List<StepInfo>();
        foreach (var node in visual ?? [])
        {
            if (node is not JsonObject step)
            {
                continue;
            }

            var type = Text(step, "type") ?? "script";
            var rules = step["agent_query_rules"] is JsonArray array
                ? array.Select(n => n?.ToString() ?? "").ToList()
                : [];
            steps.Add(new StepInfo(type, Text(step, "name") ?? Text(step, "label"), Text(step, "command"), Text(step, "key"), rules));
        }

        return steps;
    }

    private static string? Text(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Unquote(string s) =>
        s.Length >= 2 && ((s[0] == '"' && s[^1] == '"') || (s[0] == '\'' && s[^1] == '\'')) ? s[1..^1] : s;

    private sealed class Builder
    {
        public string Type { get; set; } = "script";
        public string? Name { get; set; }
        public string? Command { get; set; }
        public string? Key { get; set; }
        public List<string> Agents { get; } = [];

        public StepInfo Build() => new(Type, Name, Command, Key, Agents);
    }
}
