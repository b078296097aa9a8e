using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Delivery.Tests.Credentials;

public sealed class BuildkiteTimeTests
{
    [Theory]
    [InlineData("2015-05-09T21:05:59.874Z", 2015, 5, 9, 21, 5, 59, 874)]
    [InlineData("2015-05-09T21:05:59Z", 2015, 5, 9, 21, 5, 59, 0)]
    [InlineData("2015-05-09T23:05:59.874+02:00", 2015, 5, 9, 21, 5, 59, 874)]
    [InlineData("2015-03-01 06:44:40 UTC", 2015, 3, 1, 6, 44, 40, 0)]
    [InlineData("2025-07-23 06:07:42.5 UTC", 2025, 7, 23, 6, 7, 42, 500)]
    public void TryParse_BothBuildkiteStyles_ReadAsUtc(string text, int year, int month, int day, int hour, int minute, int second, int millisecond)
    {
        Assert.True(BuildkiteTime.TryParse(text, out var value));

        Assert.Equal(new DateTimeOffset(year, month, day, hour, minute, second, millisecond, TimeSpan.Zero), value);
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("2015-05-09T21:05:59")]
    [InlineData("2015-03-01 06:44:40")]
    [InlineData("2015-13-01 06:44:40 UTC")]
    public void TryParse_OtherText_IsFalse(string? text) => Assert.False(BuildkiteTime.TryParse(text, out _));
}
