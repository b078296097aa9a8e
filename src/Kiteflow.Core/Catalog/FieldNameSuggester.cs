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
    public static string? Suggest(string name, ObjectSchema schema) => NameSuggestions.Closest(name, schema.Fields.Select(f => f.Name));

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
