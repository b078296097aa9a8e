using Kiteflow.Core.Catalog;

namespace Kiteflow.Core.Tests.Catalog;

public sealed class CatalogDocumentTests
{
    [Fact]
    public void Render_Catalog_MatchesDocsCatalogMd()
    {
        var path = Path.Combine(BuildkiteExample.RepositoryRoot, "docs", "catalog.md");
        var expected = CatalogDocument.Render(EndpointCatalog.Buildkite);
        if (Environment.GetEnvironmentVariable("KITEFLOW_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
        }

        var actual = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "(missing)";

        Assert.True(
            actual == expected,
            "docs/catalog.md does not match the catalog; regenerate it with KITEFLOW_UPDATE_DOCS=1 dotnet test tests/Kiteflow.Core.Tests --filter \"FullyQualifiedName~CatalogDocumentTests\".");
    }

    [Fact]
    public void Render_Catalog_DocumentsEveryEndpointAndItsScope()
    {
        var document = CatalogDocument.Render(EndpointCatalog.Buildkite);

        Assert.All(EndpointCatalog.Buildkite.Endpoints, endpoint =>
        {
            Assert.Contains($"### {endpoint.Id}\n", document, StringComparison.Ordinal);
            Assert.Contains($"`{endpoint.PathTemplate}`", document, StringComparison.Ordinal);
        });
        Assert.Contains("| `commit` | string | yes |", document, StringComparison.Ordinal);
        Assert.Contains("| `author.email` | string |", document, StringComparison.Ordinal);
    }
}
