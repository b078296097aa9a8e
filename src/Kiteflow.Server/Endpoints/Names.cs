using System.Text.RegularExpressions;

namespace Kiteflow.Server.Endpoints;

/// <summary>The rule for dataset and destination names: slugs, so they fit in URLs as they are.</summary>
internal static partial class Names
{
    public static string? SlugProblem(string? name, string what) =>
        name is null || !Slug().IsMatch(name)
            ? $"'{name}' is not a {what} name: use 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit (e.g. repos-2024)."
            : null;

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,63}\z")]
    private static partial Regex Slug();
}
