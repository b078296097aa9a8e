using System.Text;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Planning.PlanTestHelpers;

namespace Kiteflow.Core.Tests.Records;

public sealed class DatasetRecordReaderTests
{
    private static DatasetItem Item(long offset, string json) => new(offset, Encoding.UTF8.GetBytes(json));

    [Fact]
    public void FromDataset_PositionsAreOffsets_BadRecordsRejectedAtTheirOffset()
    {
        using var reader = RecordReader.FromDataset([Item(40, """{"a":1}"""), Item(41, "[1]"), Item(42, """{"a":3}""")]);

        var results = reader.ToList();

        Assert.Equal(40, results[0].Record!.Position);
        Assert.Equal(41, results[0].Record!.Line);
        Assert.Equal(41, results[1].Rejection!.Record);
        Assert.Equal(42, results[2].Record!.Position);
        results.ForEach(r => r.Record?.Dispose());
    }

    [Fact]
    public void Plan_OverAStretchOfADataset_BatchesAreNamedByTheirFirstOffset()
    {
        var destination = Compile("""{"url":"https://api.buildkite.com/v2/organizations/acme/bulk","batching":{"enabled":true,"batchSize":2}}""", new PlannerOptions { DeliveryIdPrefix = "kfd" });
        using var reader = RecordReader.FromDataset(Enumerable.Range(1000, 5).Select(o => Item(o, $$"""{"n":{{o}}}""")).ToList());
        using var plan = destination.Plan(reader);

        var batches = plan.Select(i => i.Request!.Records.ToArray()).ToList();

        Assert.Equal([[1000, 1001], [1002, 1003], [1004]], batches);
    }
}
