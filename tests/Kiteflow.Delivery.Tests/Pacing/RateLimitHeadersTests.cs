using Kiteflow.Delivery.Pacing;

namespace Kiteflow.Delivery.Tests.Pacing;

public sealed class RateLimitHeadersTests
{
    [Fact]
    public void From_BothLimitsHeaders_ReadApart()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("RateLimit-Limit", "200");
        response.Headers.TryAddWithoutValidation("RateLimit-Remaining", "80");
        response.Headers.TryAddWithoutValidation("RateLimit-Reset", "42");
        response.Headers.TryAddWithoutValidation("RateLimit-User-Limit", "50");
        response.Headers.TryAddWithoutValidation("RateLimit-User-Remaining", "35");
        response.Headers.TryAddWithoutValidation("RateLimit-User-Reset", "41");

        var headers = RateLimitHeaders.From(response.Headers);

        Assert.Equal(new RateLimitReading(200, 80, 42), headers.Organization);
        Assert.Equal(new RateLimitReading(50, 35, 41), headers.User);
        Assert.False(headers.RateLimited);
    }

    [Fact]
    public void From_NoRateLimitHeaders_SaysNothing()
    {
        using var response = new HttpResponseMessage();

        var headers = RateLimitHeaders.From(response.Headers);

        Assert.False(headers.Organization.IsKnown);
        Assert.False(headers.User.IsKnown);
    }

    [Fact]
    public void AsRefusal_BodyNamesTheUser_OnlyTheUserIsSpent_ForTheBodysReset()
    {
        var headers = new RateLimitHeaders(new RateLimitReading(200, 0, 50), new RateLimitReading(50, 0, 42))
            .AsRefusal("""{"message":"You have exceeded your API rate limit. Please wait 42 seconds before making more requests.","scope":"rest_user","limit":50,"current":55,"reset":42}""");

        Assert.True(headers.RateLimited);
        Assert.Equal((null, 42), (headers.OrganizationRefusedSeconds, headers.UserRefusedSeconds));
        Assert.Equal(42, headers.RetryAfterSeconds);
    }

    [Fact]
    public void AsRefusal_BodyNamesTheOrganization_OnlyTheOrganizationIsSpent()
    {
        var headers = new RateLimitHeaders(new RateLimitReading(200, 0, 7), new RateLimitReading(50, 20, 30)).AsRefusal("""{"scope":"rest","reset":7}""");

        Assert.Equal((7, null), (headers.OrganizationRefusedSeconds, headers.UserRefusedSeconds));
    }

    [Fact]
    public void AsRefusal_BodySilent_TheHeadersSayWhichIsSpent()
    {
        var headers = new RateLimitHeaders(new RateLimitReading(200, 12, 50), new RateLimitReading(50, 0, 9)).AsRefusal(null);

        Assert.Equal((null, 9), (headers.OrganizationRefusedSeconds, headers.UserRefusedSeconds));
    }

    [Fact]
    public void AsRefusal_NothingSaysWhich_BothAreSpent_ForASecondAtLeast()
    {
        var headers = default(RateLimitHeaders).AsRefusal("""{"message":"slow down"}""");

        Assert.Equal((1, 1), (headers.OrganizationRefusedSeconds, headers.UserRefusedSeconds));
        Assert.Equal(1, headers.RetryAfterSeconds);
    }

    [Theory]
    [InlineData("https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds", "acme")]
    [InlineData("http://127.0.0.1:5000/v2/organizations/my%2Dorg/pipelines/web/builds?meta_data%5Bx%5D=1", "my-org")]
    [InlineData("https://api.buildkite.com/v2/organizations/acme", "acme")]
    [InlineData("https://api.buildkite.com/v2/access-token", "")]
    public void OrganizationOf_TheSlugInThePath(string url, string organization) =>
        Assert.Equal(organization, RateLimitBudgets.OrganizationOf(url));
}
