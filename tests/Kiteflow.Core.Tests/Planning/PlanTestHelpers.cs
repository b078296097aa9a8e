using System.Text;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Tests.Planning;

internal static class PlanTestHelpers
{
    /// <summary>Compiles a destination from JSON settings, failing the test with the problems when invalid.</summary>
    public static Destination Compile(string settingsJson, PlannerOptions? options = null)
    {
        var (settings, problems) = DestinationSettingsReader.Read(settingsJson, "test");
        Assert.Empty(problems);
        var (destination, compileProblems) = Destination.Compile(settings, options);
        Assert.True(destination is not null, string.Join("\n", compileProblems));
        return destination!;
    }

    /// <summary>The problems compiling these settings reports.</summary>
    public static IReadOnlyList<SettingsProblem> Problems(string settingsJson, PlannerOptions? options = null)
    {
        var (settings, problems) = DestinationSettingsReader.Read(settingsJson, "test");
        if (problems.Count > 0)
        {
            return problems;
        }

        return Destination.Compile(settings, options).Problems;
    }

    /// <summary>Plans JSON Lines text through the destination; returns every item and the plan's final warnings.</summary>
    public static (List<PlannedRequest> Requests, List<Rejection> Rejections, IReadOnlyList<string> Warnings) PlanAll(Destination destination, string jsonLines)
    {
        var reader = RecordReader.Create(new MemoryStream(Encoding.UTF8.GetBytes(jsonLines)), InputFormat.JsonLines);
        using var plan = destination.Plan(reader);
        var requests = new List<PlannedRequest>();
        var rejections = new List<Rejection>();
        foreach (var item in plan)
        {
            if (item.Request is { } request)
            {
                requests.Add(request);
            }
            else
            {
                rejections.Add(item.Rejection!);
            }
        }

        return (requests, rejections, plan.Warnings);
    }

    public static string BodyText(PlannedRequest request) => Encoding.UTF8.GetString(request.Body!);

    public const string BuildsUrl = "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds";
}
