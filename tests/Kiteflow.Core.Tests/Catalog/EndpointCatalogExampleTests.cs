using System.Text.Json.Nodes;
using Kiteflow.Core.Catalog;

namespace Kiteflow.Core.Tests.Catalog;

/// <summary>
/// The catalog against every documented example in <c>tests/fixtures/buildkite-api/examples</c>. The data comes from
/// the folder, so a new example the catalog does not recognise, or whose body it refuses, fails here.
/// </summary>
public sealed class EndpointCatalogExampleTests
{
    private static readonly EndpointCatalog Catalog = EndpointCatalog.Buildkite;

    public static TheoryData<string> Requests() => Files(example => example.HasRequest);

    public static TheoryData<string> EndpointExamples() => Files(example => !example.IsGeneral);

    public static TheoryData<string> Bodies() => Files(example => !example.IsGeneral && example.RequestBody is not null);

    public static TheoryData<string, string> Broken() => BrokenCopies.Cases();

    [Fact]
    public void ExamplesFolder_EveryEndpointFile_NamesARequest()
    {
        // Only general.* topic files may lack a method and a path; any other file describes a request to recognise.
        Assert.True(BuildkiteExample.All.Count >= 50, $"Only {BuildkiteExample.All.Count} examples found in {BuildkiteExample.ExamplesFolder}.");
        var withoutRequest = BuildkiteExample.All.Where(example => !example.IsGeneral && !example.HasRequest).Select(example => example.File);
        Assert.Empty(withoutRequest);
    }

    [Fact]
    public void Match_EveryDocumentedRequest_IsRecognised()
    {
        // The same check as the theories below, in one place: lists every example the catalog misses at once.
        var missed = BuildkiteExample.All
            .Where(example => example.HasRequest && Catalog.Match(example.Method!, example.FilledSegments()) is null)
            .Select(example => $"{example.File} ({example.Method} {example.Path})");
        Assert.Empty(missed);
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void Match_DocumentedRequestWithValues_IsItsEndpoint(string file)
    {
        var example = BuildkiteExample.Get(file);

        var endpoint = Catalog.Match(example.Method!, example.FilledSegments());

        Assert.NotNull(endpoint);
        AssertIsExampleEndpoint(example, endpoint);
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void Match_DocumentedRequestWithMacros_IsItsEndpoint(string file)
    {
        var example = BuildkiteExample.Get(file);

        var endpoint = Catalog.Match(example.Method!, example.MacroSegments());

        Assert.NotNull(endpoint);
        AssertIsExampleEndpoint(example, endpoint);
    }

    [Theory]
    [MemberData(nameof(EndpointExamples))]
    public void Find_ExampleEndpointId_IsTheMatchedEndpoint(string file)
    {
        var example = BuildkiteExample.Get(file);

        var found = Catalog.Find(example.Endpoint);

        Assert.NotNull(found);
        Assert.Same(found, Catalog.Match(example.Method!, example.FilledSegments()));
    }

    [Theory]
    [MemberData(nameof(EndpointExamples))]
    public void Scope_OfExampleEndpoint_IsTheDocumentedScope(string file)
    {
        var example = BuildkiteExample.Get(file);

        var endpoint = Catalog.Find(example.Endpoint)!;

        Assert.Equal(example.Scope, endpoint.Scope);
        Assert.True(endpoint.OneObjectPerCall);
    }

    [Theory]
    [MemberData(nameof(EndpointExamples))]
    public void CheckBody_DocumentedBody_PassesWithNoUnknownField(string file)
    {
        var example = BuildkiteExample.Get(file);
        var endpoint = Catalog.Find(example.Endpoint)!;

        var check = endpoint.CheckBody(example.BodyElement());

        Assert.Empty(check.Errors);
        Assert.True(check.IsValid);
        Assert.Empty(check.UnknownFields);
    }

    [Theory]
    [MemberData(nameof(EndpointExamples))]
    public void Body_DocumentedFields_AreKnown(string file)
    {
        var example = BuildkiteExample.Get(file);
        var endpoint = Catalog.Find(example.Endpoint)!;

        var unknown = example.RequiredFields.Concat(example.OptionalFields).Where(field => endpoint.Body.Find(field) is null);

        Assert.Empty(unknown);
        if (example.RequiredFields.Count + example.OptionalFields.Count > 0)
        {
            Assert.True(endpoint.TakesBody);
        }
    }

    [Theory]
    [MemberData(nameof(EndpointExamples))]
    public void Body_DocumentedRequiredFields_AreRequiredOrDeliberatelyRelaxed(string file)
    {
        var example = BuildkiteExample.Get(file);
        var endpoint = Catalog.Find(example.Endpoint)!;

        var notRequired = example.RequiredFields.Where(field =>
            endpoint.Body.Find(field)?.IsRequired != true
            && endpoint.Body.OneOfRequired?.Members.Contains(field) != true
            && !BrokenCopies.Relaxed.ContainsKey((endpoint.Id, field)));

        Assert.Empty(notRequired);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void CheckBody_DocumentedBodyInAnArray_FailsOnTheBody(string file)
    {
        var example = BuildkiteExample.Get(file);
        var endpoint = Catalog.Find(example.Endpoint)!;
        var batch = new JsonArray(example.RequestBody!.DeepClone(), example.RequestBody!.DeepClone());

        var check = endpoint.CheckBody(BuildkiteExample.ToElement(batch));

        var problem = Assert.Single(check.Errors);
        Assert.Equal("(body)", problem.Field);
        Assert.Contains("per call", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokenCopies_CoverEveryRuleKind()
    {
        // Guards the generator: if it silently produced nothing, the theory below would prove nothing.
        var mutations = BuildkiteExample.All.SelectMany(example => BrokenCopies.Of(example.File)).Select(copy => copy.Mutation).ToList();
        Assert.Contains("without `commit`", mutations);
        Assert.Contains("without `branch`", mutations);
        Assert.Contains("without `configuration`", mutations);
        Assert.Contains("without `steps`", mutations);
        Assert.Contains("without `hostedAgents.instanceShape`", mutations);
        Assert.Contains("`style` = \"not-a-documented-value\"", mutations);
        Assert.Contains("`priority` = 11", mutations);
        Assert.Contains("`priority` = 0", mutations);
        Assert.Contains("`body` of 1048577 bytes", mutations);
        Assert.Contains("`meta_data.some build data` of 102401 bytes", mutations);
        Assert.Contains("`author.email` of a wrong JSON type", mutations);
        Assert.Contains("`states` = \"failed,soft_failed,not-a-documented-value\"", mutations);
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void CheckBody_BrokenCopyOfDocumentedBody_FailsNamingTheField(string file, string mutation)
    {
        var copy = BrokenCopies.Get(file, mutation);
        var endpoint = Catalog.Find(BuildkiteExample.Get(file).Endpoint)!;

        var check = endpoint.CheckBody(BuildkiteExample.ToElement(copy.Body));

        Assert.False(check.IsValid);
        var problem = Assert.Single(check.Errors, error => error.Field == copy.ExpectedField);
        Assert.Contains($"`{copy.ExpectedField}`", problem.Message, StringComparison.Ordinal);
        Assert.EndsWith(".", problem.Message, StringComparison.Ordinal);
    }

    private static TheoryData<string> Files(Func<BuildkiteExample, bool> predicate)
    {
        var data = new TheoryData<string>();
        foreach (var example in BuildkiteExample.All.Where(predicate))
        {
            data.Add(example.File);
        }

        return data;
    }

    private static void AssertIsExampleEndpoint(BuildkiteExample example, EndpointDefinition endpoint)
    {
        if (example.IsGeneral)
        {
            // Topic files carry a request for illustration (GET /user, a builds list); any endpoint will do.
            return;
        }

        Assert.True(
            endpoint.Id == example.Endpoint || endpoint.Aliases.Contains(example.Endpoint),
            $"{example.File} ({example.Method} {example.Path}) matched {endpoint.Id}, not {example.Endpoint}.");
        Assert.Contains(example.Method!, endpoint.Methods);
    }
}
