using Kiteflow.Cli.Commands;
using Kiteflow.Delivery;

namespace Kiteflow.Cli.Tests;

public sealed class ProgressReporterTests
{
    /// <summary>
    /// The reader runs ahead of planning: when the whole 400-record input has been read but only 224 records
    /// planned, the line counts settled records out of the 400 (and says 50 %), not out of the 224 planned.
    /// </summary>
    [Fact]
    public void Describe_InputReadAheadOfPlanning_CountsOutOfTheWholeInput()
    {
        var progress = new DeliveryProgress(Records: 224, Delivered: 200, Rejected: 2, PossiblyDelivered: 0, Requests: 202, Retries: 0, RateLimitWaits: 0, Elapsed: TimeSpan.FromSeconds(20), RecordsFound: 400, InputEnded: true, InputFraction: 1.0);

        var line = ProgressReporter.Describe(progress);

        Assert.StartsWith("202/400 records (50%)", line, StringComparison.Ordinal);
        Assert.Contains("ETA 19s", line);
    }

    [Fact]
    public void Describe_InputStillBeingRead_EstimatesTheTotalFromWhatWasRead()
    {
        var progress = new DeliveryProgress(Records: 90, Delivered: 50, Rejected: 0, PossiblyDelivered: 0, Requests: 50, Retries: 0, RateLimitWaits: 0, Elapsed: TimeSpan.FromSeconds(10), RecordsFound: 100, InputEnded: false, InputFraction: 0.25);

        Assert.StartsWith("50/~400 records (12%)", ProgressReporter.Describe(progress), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_InputOfUnknownSize_SaysWhatWasRead()
    {
        var progress = new DeliveryProgress(Records: 90, Delivered: 50, Rejected: 0, PossiblyDelivered: 0, Requests: 50, Retries: 0, RateLimitWaits: 0, Elapsed: TimeSpan.FromSeconds(10), RecordsFound: 100, InputEnded: false, InputFraction: null);

        var line = ProgressReporter.Describe(progress);

        Assert.StartsWith("50 records settled of 100 read", line, StringComparison.Ordinal);
        Assert.DoesNotContain("ETA", line);
    }

    /// <summary>
    /// On an 80-column terminal (the spinner takes 2 columns), a busy line keeps the records, the rate and the ETA,
    /// leaving out the least useful parts first.
    /// </summary>
    [Fact]
    public void Describe_At80Columns_FitsAndKeepsRecordsRateAndEta()
    {
        var progress = new DeliveryProgress(Records: 1_234_567, Delivered: 1_100_000, Rejected: 12_345, PossiblyDelivered: 67, Requests: 123_456, Retries: 4_321, RateLimitWaits: 210, Elapsed: TimeSpan.FromMinutes(42), RecordsFound: 1_300_000, InputEnded: false, InputFraction: 0.5);

        var line = ProgressReporter.Describe(progress, 77);

        Assert.True(line.Length <= 77, $"{line.Length} columns: {line}");
        Assert.Contains("/~2,600,000 records", line);
        Assert.Contains("req/s", line);
        Assert.Contains("ETA", line);
    }

    [Fact]
    public void Describe_WithoutAWidth_ShowsEverything()
    {
        var progress = new DeliveryProgress(Records: 10, Delivered: 6, Rejected: 2, PossiblyDelivered: 1, Requests: 12, Retries: 3, RateLimitWaits: 4, Elapsed: TimeSpan.FromSeconds(3), RecordsFound: 10, InputEnded: true, InputFraction: 1.0);

        Assert.Equal("9/10 records (90%) · 4.0 req/s · ETA 0s · 6 delivered · 2 rejected · 1 possibly delivered · 3 retries · 4 rate-limit waits", ProgressReporter.Describe(progress));
    }
}
