using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Delivery.Tests.Credentials;

public sealed class CredentialRulesTests
{
    [Theory]
    [InlineData("bkua_0123456789abcdef0123456789abcdef01234567")]
    [InlineData("BKUA_short")]
    [InlineData("bkct_0123456789abcdef")]
    [InlineData("bkaa_x")]
    [InlineData("bkaj_x")]
    [InlineData("prod-bkua_0123")]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    [InlineData("KF_TOKEN_3f2a9c1e8b7d4a6f9e0c1b2a3d4e5f60")]
    [InlineData("Xk3fP9aQ2mL7nB4vR8tY5wZ1")]
    public void LooksLikeToken_TokenShapedValues_True(string value) => Assert.True(CredentialRules.LooksLikeToken(value));

    [Theory]
    [InlineData("BUILDKITE_API_TOKEN")]
    [InlineData("SANDBOX_TOKEN")]
    [InlineData("acme-release.v2_eu")]
    [InlineData("MyProject2024BuildkiteToken")]
    [InlineData("a123456789012345678901234567890123456789012345678901234567890123")]
    [InlineData("0f4c1e2a-9b7d-4c3e-8a1f-2b3c4d5e6f70")]
    [InlineData("KF_TEST_TOKEN_17")]
    [InlineData("bkuap")]
    public void LooksLikeToken_Names_False(string value) => Assert.False(CredentialRules.LooksLikeToken(value));

    [Theory]
    [InlineData("bkua_0123456789abcdef0123456789abcdef01234567")]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    public void NameProblem_TokenGivenAsAName_SaysSoWithoutRepeatingIt(string token)
    {
        var problem = CredentialRules.NameProblem(token);

        Assert.NotNull(problem);
        Assert.StartsWith("that looks like a token, not a credential name", problem);
        Assert.DoesNotContain(token, problem);
    }

    [Theory]
    [InlineData("bkua_0123456789abcdef0123456789abcdef01234567", "that looks like a token, not a variable name")]
    [InlineData("my token value", "what was given is not a variable name")]
    public void VariableNameProblem_NotAName_SaysWhyWithoutRepeatingIt(string given, string reason)
    {
        var problem = CredentialRules.VariableNameProblem(given);

        Assert.NotNull(problem);
        Assert.StartsWith(reason, problem);
        Assert.DoesNotContain(given, problem);
    }

    [Fact]
    public void VariableNameProblem_VariableName_IsNull() => Assert.Null(CredentialRules.VariableNameProblem("BUILDKITE_API_TOKEN"));

    [Fact]
    public void HideTokens_HidesEveryTokenAndKeepsTheRest()
    {
        var text = CredentialRules.HideTokens("Unrecognized argument 'bkua_0123456789abcdef' near 0123456789abcdef0123456789abcdef01234567 in /tmp/in.jsonl.");

        Assert.Equal("Unrecognized argument '••••' near •••• in /tmp/in.jsonl.", text);
    }

    [Fact]
    public void IsWellFormedName_TokenShapedName_StillWellFormed()
    {
        // A store written before token-shaped names were refused must stay readable.
        Assert.True(CredentialRules.IsWellFormedName("bkua_0123456789abcdef"));
        Assert.Equal("••••", CredentialRules.Displayable("bkua_0123456789abcdef"));
        Assert.Equal("acme", CredentialRules.Displayable("acme"));
    }
}
