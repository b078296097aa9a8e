using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

/// <summary>The committed copy of the Buildkite API facts, found relative to the repository.</summary>
internal static class Fixtures
{
    public static string ExamplesDirectory { get; } = Find();

    public static IEnumerable<string> ExampleFiles() =>
        Directory.EnumerateFiles(ExamplesDirectory, "*.json")
            .Select(Path.GetFileName)
            .Where(f => f != "index.json")
            .Order(StringComparer.Ordinal)!;

    public static JsonObject Load(string file) => JsonNode.Parse(File.ReadAllText(Path.Combine(ExamplesDirectory, file)))!.AsObject();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kiteflow.slnx")))
            {
                return Path.Combine(dir.FullName, "tests", "fixtures", "buildkite-api", "examples");
            }
        }

        throw new InvalidOperationException("Can't find the repository (Kiteflow.slnx) above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// Compares a sandbox answer with a documented one: every documented field must be there with the same JSON
/// type (values may differ); a documented null matches anything; arrays are compared by their first items.
/// A field Buildkite leaves null until a build runs or a reason exists may be null in the sandbox's answer:
/// those are listed in <see cref="NullableByState"/>, each for a reason a real API would also give null.
/// </summary>
internal static class Shape
{
    public static readonly HashSet<string> NullableByState = new(StringComparer.Ordinal)
    {
        "cancel_reason",        // set only when a build is canceled with a reason
        "started_at",           // a scheduled build or job has not started
        "finished_at",          // ... nor finished
        "runnable_at",          // a waiting job is not runnable yet
        "exit_status",          // a job that has not run has no exit status
        "agent",                // ... nor an agent
        "signature",            // steps are signed only with pipeline signing configured
        "pull_request",         // null for a build without a pull request
        "expires_at",           // sandbox tokens do not expire unless the seed says so
        "retries_count",
        "branch_configuration", // null when a pipeline or step has no branch filter
        "emoji",                // null when a cluster was given none
        "color",                // ... nor a colour
    };

    /// <summary>Objects whose keys are data (environment variables, meta-data), not part of the shape.</summary>
    public static readonly HashSet<string> Maps = new(StringComparer.Ordinal) { "env", "meta_data" };

    public static void AssertMatches(JsonNode? documented, JsonNode? actual, string context)
    {
        var problems = new List<string>();
        Compare(documented, actual, "$", problems);
        Assert.True(problems.Count == 0, $"{context}: the answer's shape differs from the documented one:\n  " + string.Join("\n  ", problems)
            + $"\nanswer: {actual?.ToJsonString()}");
    }

    private static void Compare(JsonNode? documented, JsonNode? actual, string path, List<string> problems)
    {
        if (documented is null)
        {
            return;
        }

        var name = path[(path.LastIndexOf('.') + 1)..];
        if (actual is null)
        {
            if (!NullableByState.Contains(name))
            {
                problems.Add($"{path}: documented {Kind(documented)}, answered null");
            }

            return;
        }

        switch (documented)
        {
            case JsonObject expectedObject:
                if (actual is not JsonObject got)
                {
                    problems.Add($"{path}: documented an object, answered {Kind(actual)}");
                    return;
                }

                if (Maps.Contains(name))
                {
                    break;
                }

                foreach (var (key, value) in expectedObject)
                {
                    if (!got.ContainsKey(key))
                    {
                        problems.Add($"{path}.{key}: documented, missing from the answer");
                        continue;
                    }

                    Compare(value, got[key], $"{path}.{key}", problems);
                }

                break;
            case JsonArray expected:
                if (actual is not JsonArray items)
                {
                    problems.Add($"{path}: documented an array, answered {Kind(actual)}");
                    return;
                }

                if (expected.Count > 0 && items.Count > 0 && !(expected[0] is JsonValue v && v.ToString() == "..."))
                {
                    Compare(expected[0], items[0], path + "[0]", problems);
                }

                break;
            default:
                if (Kind(documented) != Kind(actual))
                {
                    problems.Add($"{path}: documented {Kind(documented)}, answered {Kind(actual)}");
                }

                break;
        }
    }

    private static string Kind(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => "number",
        JsonValueKind.String => "string",
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        _ => "null",
    };
}
