using Kiteflow.Core.Catalog;

namespace Kiteflow.Core.Tests.Catalog;

public sealed class FieldNameSuggesterTests
{
    private static readonly ObjectSchema Schema = EndpointCatalog.Buildkite.Find("builds.create")!.Body;

    [Theory]
    [InlineData("brnach", "branch")]
    [InlineData("comit", "commit")]
    [InlineData("Commit", "commit")]
    [InlineData("metadata", "meta_data")]
    [InlineData("mesage", "message")]
    [InlineData("clean_chekout", "clean_checkout")]
    public void Suggest_CloseName_ReturnsTheKnownField(string typo, string expected)
    {
        Assert.Equal(expected, FieldNameSuggester.Suggest(typo, Schema));
    }

    [Theory]
    [InlineData("org_slug")]
    [InlineData("x")]
    [InlineData("pipeline")]
    public void Suggest_DistantName_ReturnsNull(string name)
    {
        Assert.Null(FieldNameSuggester.Suggest(name, Schema));
    }

    [Theory]
    [InlineData("branch", "brnach", 1)]
    [InlineData("abc", "abc", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance_Pairs_CountEdits(string a, string b, int expected)
    {
        Assert.Equal(expected, NameSuggestions.Distance(a, b));
    }
}
