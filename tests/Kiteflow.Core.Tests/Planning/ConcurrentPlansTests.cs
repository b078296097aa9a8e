using System.Text;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Planning.PlanTestHelpers;

namespace Kiteflow.Core.Tests.Planning;

/// <summary>
/// One compiled destination serves several plans at once in the server (a preview beside a delivery, test sends):
/// each plan must run its own batching script, since a Jint engine is not safe to share.
/// </summary>
public sealed class ConcurrentPlansTests
{
    private const string CodeBatching = """
        {"url":"https://api.buildkite.com/v2/organizations/acme/bulk",
         "batching":{"enabled":true,"batchSize":3,"algorithm":"code",
                     "code":"function batch(records, context) { var s = 0; for (var i = 0; i < records.length; i++) { s += records[i].n; } return { sum: s, count: records.length, index: context.batchIndex }; }"}}
        """;

    [Fact]
    public async Task Plan_ManyPlansOfOneDestinationAtOnce_EachScriptSeesOnlyItsOwnRecords()
    {
        var destination = Compile(CodeBatching, new PlannerOptions { Parallelism = 1 });
        const int records = 3_000;
        var input = string.Join('\n', Enumerable.Range(0, records).Select(i => $"{{\"n\":{i}}}"));

        var plans = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            using var reader = RecordReader.Create(new MemoryStream(Encoding.UTF8.GetBytes(input)), InputFormat.JsonLines);
            using var plan = destination.Plan(reader);
            return plan.Select(i => Encoding.UTF8.GetString(i.Request!.Body!)).ToList();
        })));

        var expected = Enumerable.Range(0, records / 3).Select(b => $"{{\"sum\":{(3 * b) + (3 * b) + 1 + (3 * b) + 2},\"count\":3,\"index\":{b}}}").ToList();
        Assert.All(plans, bodies => Assert.Equal(expected, bodies));
    }
}
