using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Delivery.Tests.Credentials;

public sealed class CredentialTests
{
    private const string Token = "bkua_secret_0123456789abcdef0123456789";

    [Fact]
    public void ToString_ShowsNameAndApiBaseButNotTheToken()
    {
        var credential = new Credential("acme", Token, new Uri("https://api.buildkite.com/"), DateTimeOffset.UnixEpoch);

        var text = credential.ToString();

        Assert.Equal("acme (https://api.buildkite.com, token ••••)", text);
        Assert.DoesNotContain(Token, $"{credential}");
    }

    [Fact]
    public void Authorize_SetsTheBearerHeader()
    {
        var credential = new Credential("acme", Token, new Uri("http://127.0.0.1:1"), DateTimeOffset.UnixEpoch);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:1/v2/access-token");

        credential.Authorize(request);

        Assert.Equal("Bearer", request.Headers.Authorization!.Scheme);
        Assert.Equal(Token, request.Headers.Authorization.Parameter);
    }

    [Fact]
    public void Redact_ReplacesEveryOccurrence()
    {
        var credential = new Credential("acme", Token, new Uri("https://api.buildkite.com"), DateTimeOffset.UnixEpoch);

        Assert.Equal("token •••• is •••• here", credential.Redact($"token {Token} is {Token} here"));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("sandbox")]
    [InlineData("acme-release.v2_eu")]
    [InlineData("0")]
    [InlineData("a123456789012345678901234567890123456789012345678901234567890123")]
    public void NameProblem_ValidName_IsNull(string name) => Assert.Null(CredentialRules.NameProblem(name));

    [Theory]
    [InlineData("")]
    [InlineData("-leading-dash")]
    [InlineData(".hidden")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("name\n")]
    [InlineData("ünïcode")]
    [InlineData("a1234567890123456789012345678901234567890123456789012345678901234")]
    public void NameProblem_InvalidName_SaysWhatANameIs(string name)
    {
        var problem = CredentialRules.NameProblem(name);

        Assert.NotNull(problem);
        Assert.Contains("1 to 64 letters, digits", problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void Constructor_InvalidName_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new Credential("bad name", Token, new Uri("https://api.buildkite.com"), DateTimeOffset.UnixEpoch));
    }
}
