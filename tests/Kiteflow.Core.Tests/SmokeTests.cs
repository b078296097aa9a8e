namespace Kiteflow.Core.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Placeholder_Value_IsOne() => Assert.Equal(1, Kiteflow.Core.Records.Placeholder.Value);
}
