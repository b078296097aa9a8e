using Kiteflow.Core.Planning;
using Kiteflow.Core.Settings;

namespace Kiteflow.Cli.Commands;

/// <summary>Reads and compiles a destination file, printing every problem when it is invalid.</summary>
internal static class DestinationLoader
{
    public static Destination? Load(FileInfo file, PlannerOptions options, TextWriter error)
    {
        var (settings, readProblems) = DestinationSettingsReader.ReadFile(file.FullName);
        var (destination, problems) = Destination.Compile(settings, readProblems, options);

        if (destination is not null)
        {
            return destination;
        }

        error.WriteLine($"kiteflow: the destination '{file.Name}' is not valid ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):");
        foreach (var problem in problems)
        {
            error.WriteLine($"  - {problem.Key}: {problem.Message}");
        }

        return null;
    }

    /// <summary>The delivery-id prefix for this destination file and input, the same for preview and send.</summary>
    public static string RunKey(FileInfo destination, string input) =>
        DeliveryIds.RunKey(File.ReadAllBytes(destination.FullName), input);
}
