using System.Text.RegularExpressions;

namespace Kiteflow.Sandbox.Api;

/// <summary>Tells the source-code provider from a repository URL, as Buildkite shows it in <c>provider.id</c>.</summary>
internal static partial class Providers
{
    public static (string Id, string Repository) Detect(string repository)
    {
        var match = HostAndPath().Match(repository);
        if (!match.Success)
        {
            return ("git", repository);
        }

        var host = match.Groups["host"].Value.ToLowerInvariant();
        var path = match.Groups["path"].Value;
        path = path.EndsWith(".git", StringComparison.Ordinal) ? path[..^4] : path;
        var id = host switch
        {
            "github.com" => "github",
            "gitlab.com" => "gitlab",
            "bitbucket.org" => "bitbucket",
            _ when host.Contains("github", StringComparison.Ordinal) => "github_enterprise",
            _ => "git",
        };
        return (id, path);
    }

    [GeneratedRegex(@"^(?:[a-z+]+://)?(?:[^@/]+@)?(?<host>[^:/]+)[:/](?<path>.+?)/?$", RegexOptions.IgnoreCase)]
    private static partial Regex HostAndPath();
}
