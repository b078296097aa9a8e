namespace Kiteflow.Core.Catalog;

/// <summary>Turns an unknown field into a warning, suggesting the closest known field ("did you mean `branch`?").</summary>
internal static class FieldNameSuggester
{
    public static string DescribeUnknown(EndpointDefinition endpoint, string path)
    {
        if (!endpoint.TakesBody)
        {
            return $"`{path}` will be ignored: {endpoint.Id} takes no body, so Buildkite reads nothing from it; leave it out of the request.";
        }

        var (parent, schema, name) = Locate(endpoint.Body, path);
        var suggestion = Suggest(name, schema);
        var prefix = parent is null ? string.Empty : parent + ".";
        return suggestion is null
            ? $"`{path}` is not a field {endpoint.Id} knows, so Buildkite will ignore it; check its spelling, or leave it out with the exclude attributes setting."
            : $"`{path}` is not a field {endpoint.Id} knows, so Buildkite will ignore it; did you mean `{prefix}{suggestion}`?";
    }

    /// <summary>The known field of <paramref name="schema"/> closest to <paramref name="name"/>, or null when none is close.</summary>
    public static string? Suggest(string name, ObjectSchema schema)
    {
        // Allow one edit for short names and about one per three characters beyond, so `brnach` finds `branch`
        // (one transposition) but `foo` does not find `force`.
        var allowed = Math.Max(1, name.Length / 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var field in schema.Fields)
        {
            var distance = Distance(name, field.Name);
            if (distance <= allowed && distance < bestDistance)
            {
                best = field.Name;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>
    /// Optimal string alignment distance, case-insensitive: insertions, deletions, substitutions and swaps of two
    /// adjacent characters each cost one.
    /// </summary>
    public static int Distance(string a, string b)
    {
        var previous2 = new int[b.Length + 1];
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1
                    && char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 2])
                    && char.ToLowerInvariant(a[i - 2]) == char.ToLowerInvariant(b[j - 1]))
                {
                    current[j] = Math.Min(current[j], previous2[j - 2] + 1);
                }
            }

            (previous2, previous, current) = (previous, current, previous2);
        }

        return previous[b.Length];
    }

    // Walks the known nested objects named by the path; what is left is the unknown name.
    private static (string? Parent, ObjectSchema Schema, string Name) Locate(ObjectSchema root, string path)
    {
        var schema = root;
        var start = 0;
        while (true)
        {
            var dot = path.IndexOf('.', start);
            if (dot < 0)
            {
                break;
            }

            var nested = schema.Find(path[start..dot])?.Properties;
            if (nested is null)
            {
                break;
            }

            schema = nested;
            start = dot + 1;
        }

        return (start == 0 ? null : path[..(start - 1)], schema, path[start..]);
    }
}
