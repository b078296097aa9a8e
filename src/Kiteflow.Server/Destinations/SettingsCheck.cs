using Kiteflow.Core.Planning;
using Kiteflow.Core.Settings;

namespace Kiteflow.Server.Destinations;

/// <summary>
/// Validates destination settings exactly as the CLI does (the destination file's reader, then compiling the
/// destination against the credential's API base), and names each problem by its key.
/// </summary>
internal static class SettingsCheck
{
    /// <summary>Every problem, keyed <c>{prefix}{setting key}</c> (the key as written in the destination file).</summary>
    /// <param name="settingsJson">The text of a destination file.</param>
    /// <param name="name">The destination's name (the settings' default name).</param>
    /// <param name="apiBase">The credential's API base, where URLs written for api.buildkite.com go.</param>
    /// <param name="prefix">What the keys start with: <c>settings.</c> when the settings are a field of the request, empty for a file body.</param>
    public static (Destination? Destination, Dictionary<string, List<string>> Errors) Check(string settingsJson, string name, Uri? apiBase, string prefix)
    {
        var errors = new Dictionary<string, List<string>>();
        // Read and compile problems together, as the CLI lists them: an unknown key does not hide a bad header.
        var (settings, readProblems) = DestinationSettingsReader.Read(settingsJson, name);
        var (destination, problems) = Destination.Compile(settings, readProblems, new PlannerOptions { ApiBase = apiBase, Parallelism = 1 });

        foreach (var problem in problems)
        {
            var key = problem.Key == "(file)" ? (prefix.Length > 0 ? prefix.TrimEnd('.') : "body") : prefix + problem.Key;
            Endpoints.Problems.Add(errors, key, problem.Message);
        }

        return (destination, errors);
    }
}
