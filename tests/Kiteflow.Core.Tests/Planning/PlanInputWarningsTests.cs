using System.Text;
using System.Text.Json;
using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Planning.PlanTestHelpers;

namespace Kiteflow.Core.Tests.Planning;

/// <summary>Warnings that only the records can give: excluded attributes no record has, an empty input.</summary>
public sealed class PlanInputWarningsTests
{
    private static string Destination(params string[] exclude) =>
        JsonSerializer.Serialize(new { url = BuildsUrl, excludeAttributes = exclude });

    private static string Records(int count, Func<int, object> make) =>
        string.Join('\n', Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(make(i))));

    private static object Build(int i) => new { org = "acme", pipeline = "web", commit = $"c{i}", branch = "main", author = new { name = "Ann", email = "ann@example.com" } };

    [Fact]
    public void Plan_ExcludedPathNoRecordHas_Warned_WithTheClosestPath()
    {
        var destination = Compile(Destination("org", "pipeline", "author.emial", "Author.name"));

        var (requests, _, warnings) = PlanAll(destination, Records(3, Build));

        Assert.Equal(3, requests.Count);
        Assert.Contains("excludeAttributes \"author.emial\": no record has this attribute, so it leaves nothing out; did you mean \"author.email\"?", warnings);
        Assert.Contains("excludeAttributes \"Author.name\": no record has this attribute, so it leaves nothing out; did you mean \"author.name\"?", warnings);
        Assert.DoesNotContain(warnings, w => w.Contains("\"org\"", StringComparison.Ordinal) || w.Contains("\"pipeline\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_ExcludedPathNothingLike_WarnedToCheckIt()
    {
        var destination = Compile(Destination("org", "pipeline", "record.secrets.token"));

        var (_, _, warnings) = PlanAll(destination, Records(2, Build));

        var warning = Assert.Single(warnings, w => w.StartsWith("excludeAttributes", StringComparison.Ordinal));
        Assert.Equal("excludeAttributes \"record.secrets.token\": no record has this attribute, so it leaves nothing out; check its spelling (names are case-sensitive) and where it sits in the record.", warning);
    }

    [Fact]
    public void Plan_ExcludedPathOnlyALateRecordHas_NotWarned()
    {
        // Hundreds of records in chunks planned on several threads; only the last has the path.
        var destination = Compile(Destination("org", "pipeline", "ci.token"), new() { Parallelism = 4 });
        var records = Records(999, Build) + "\n" + JsonSerializer.Serialize(new { org = "acme", pipeline = "web", commit = "last", branch = "main", ci = new { token = "x" } });

        var (requests, _, warnings) = PlanAll(destination, records);

        Assert.Equal(1000, requests.Count);
        Assert.DoesNotContain(warnings, w => w.StartsWith("excludeAttributes", StringComparison.Ordinal));
        Assert.DoesNotContain("\"token\"", Encoding.UTF8.GetString(requests[^1].Body!));
    }

    [Fact]
    public void Plan_OnlyPartOfTheInputRead_WarningSaysSo()
    {
        var destination = Compile(Destination("org", "pipeline", "author.emial"));
        var reader = RecordReader.Create(new MemoryStream(Encoding.UTF8.GetBytes(Records(50, Build))), InputFormat.JsonLines);
        using var plan = destination.Plan(reader);

        var first = plan.First();

        Assert.NotNull(first.Request);
        var warning = Assert.Single(plan.InputWarnings);
        Assert.StartsWith("excludeAttributes \"author.emial\": none of the ", warning);
        Assert.Contains(" records read has this attribute, so it left nothing out in them (only part of the input was read); did you mean \"author.email\"?", warning);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n  \n\n")]
    public void Plan_EmptyInput_Warned(string input)
    {
        var destination = Compile(Destination("org", "pipeline"));

        var (requests, rejections, warnings) = PlanAll(destination, input);

        Assert.Empty(requests);
        Assert.Empty(rejections);
        Assert.Equal(["The input holds no records, so there is nothing to send; check that it is the right file or dataset."], warnings);
    }

    [Fact]
    public void Plan_InputWithRecords_NoEmptyInputWarning()
    {
        var destination = Compile(Destination("org", "pipeline"));

        var (_, _, warnings) = PlanAll(destination, "{broken\n");

        Assert.Empty(warnings);
    }
}
