using System.Text.Json;
using Kiteflow.Core.Catalog;

namespace Kiteflow.Core.Tests.Catalog;

public sealed class EndpointDefinitionTests
{
    private const int Calls = 10_000;

    private const string ValidBuild = """
        {"commit":"HEAD","branch":"main","message":"Deploy :rocket:","author":{"name":"Ada","email":"ada@example.com"},
         "env":{"DEPLOY":"1","COUNT":3},"meta_data":{"kiteflow-key":"b-1","flag":true},"clean_checkout":false,
         "pull_request_id":42,"pull_request_labels":["bug","ui"]}
        """;

    private static EndpointDefinition Endpoint(string id) => EndpointCatalog.Buildkite.Find(id)!;

    private static BodyCheck Check(string id, string json) => Endpoint(id).CheckBody(Parse(json));

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static FieldProblem SingleError(BodyCheck check, string field)
    {
        var problem = Assert.Single(check.Errors);
        Assert.Equal(field, problem.Field);
        Assert.Contains(field == "(body)" ? "The body" : $"`{field}`", problem.Message, StringComparison.Ordinal);
        return problem;
    }

    [Fact]
    public void CheckBody_ValidBody_ReturnsTheSharedPassedResult()
    {
        var first = Check("builds.create", ValidBuild);
        var second = Check("annotations.create", """{"body":"Hello"}""");

        Assert.True(first.IsValid);
        Assert.Empty(first.Errors);
        Assert.Empty(first.UnknownFields);
        Assert.Empty(first.Warnings);
        Assert.Same(first, second);
    }

    [Fact]
    public void CheckBody_ValidBody_AllocatesNothing()
    {
        var endpoint = Endpoint("builds.create");
        var body = Parse(ValidBuild);
        for (var i = 0; i < 100; i++)
        {
            endpoint.CheckBody(body);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++)
        {
            endpoint.CheckBody(body);
        }

        // Any allocation per call is at least 24 bytes; under one byte per call on average leaves room only for a
        // one-off allocation by the runtime while the loop runs (seen once under a parallel test run).
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < Calls, $"{Calls:N0} calls allocated {allocated:N0} bytes.");
    }

    [Theory]
    [InlineData("commit")]
    [InlineData("branch")]
    public void CheckBody_CreateBuildWithoutCommitOrBranch_NamesIt(string field)
    {
        var body = field == "commit" ? """{"branch":"main"}""" : """{"commit":"HEAD"}""";

        var problem = SingleError(Check("builds.create", body), field);

        Assert.Contains("is missing", problem.Message, StringComparison.Ordinal);
        Assert.Contains("add a string", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_CreateBuildWithNumericCommit_AsksForAString()
    {
        var problem = SingleError(Check("builds.create", """{"commit":1234567,"branch":"main"}"""), "commit");

        Assert.Contains("must be a string", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_CreateBuildWithNullBranch_SaysItIsRequired()
    {
        var problem = SingleError(Check("builds.create", """{"commit":"HEAD","branch":null}"""), "branch");

        Assert.Contains("is null", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_NoBodyForCreateBuild_ReportsEachRequiredField()
    {
        var check = Endpoint("builds.create").CheckBody(default);

        Assert.Equal(["commit", "branch"], check.Errors.Select(error => error.Field));
    }

    [Fact]
    public void CheckBody_TypoInFieldName_IsUnknownWithASuggestion()
    {
        var check = Check("builds.create", """{"commit":"HEAD","brnach":"main"}""");

        Assert.Equal(["brnach"], check.UnknownFields);
        var warning = Assert.Single(check.Warnings);
        Assert.Contains("`brnach`", warning, StringComparison.Ordinal);
        Assert.Contains("did you mean `branch`?", warning, StringComparison.Ordinal);
        SingleError(check, "branch");
    }

    [Fact]
    public void CheckBody_UnknownFieldOnly_StaysValid()
    {
        var check = Check("builds.create", """{"commit":"HEAD","branch":"main","org_slug":"acme"}""");

        Assert.True(check.IsValid);
        Assert.Equal(["org_slug"], check.UnknownFields);
        Assert.DoesNotContain("did you mean", Assert.Single(check.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_NestedProblems_UseDottedPaths()
    {
        var check = Check("builds.create", """{"commit":"HEAD","branch":"main","author":{"name":"Ada","email":7,"emial":"x"}}""");

        SingleError(check, "author.email");
        Assert.Equal(["author.emial"], check.UnknownFields);
        Assert.Contains("did you mean `author.email`?", Assert.Single(check.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_MetaDataValueOver100KiB_IsRefused()
    {
        var value = new string('x', (100 * 1024) + 1);

        var problem = SingleError(Check("builds.create", $$$"""{"commit":"HEAD","branch":"main","meta_data":{"report":"{{{value}}}"}}"""), "meta_data.report");

        Assert.Contains("102,401 bytes", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_MetaDataValueOf100KiB_Passes()
    {
        var value = new string('x', 100 * 1024);

        Assert.True(Check("builds.create", $$$"""{"commit":"HEAD","branch":"main","meta_data":{"report":"{{{value}}}"}}""").IsValid);
    }

    [Fact]
    public void CheckBody_MetaDataValueThatIsAnObject_IsRefused()
    {
        SingleError(Check("builds.create", """{"commit":"HEAD","branch":"main","meta_data":{"nested":{"a":1}}}"""), "meta_data.nested");
    }

    [Fact]
    public void CheckBody_ArrayItemOfWrongType_NamesTheItem()
    {
        SingleError(Check("builds.create", """{"commit":"HEAD","branch":"main","pull_request_labels":["bug",3]}"""), "pull_request_labels[1]");
    }

    [Fact]
    public void CheckBody_BatchedArrayBody_SaysOneObjectPerCall()
    {
        var problem = SingleError(Check("builds.create", $"[{ValidBuild},{ValidBuild}]"), "(body)");

        Assert.Contains("one build per call", problem.Message, StringComparison.Ordinal);
        Assert.Contains("batching", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void CheckBody_BodyThatIsNotAnObject_FailsOnTheBody(string json)
    {
        SingleError(Check("annotations.create", json), "(body)");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    public void CheckBody_AnnotationPriorityWithinOneToTen_Passes(int priority)
    {
        Assert.True(Check("annotations.create", $$"""{"body":"x","priority":{{priority}}}""").IsValid);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("11")]
    [InlineData("-3")]
    [InlineData("5.5")]
    [InlineData("\"5\"")]
    [InlineData("true")]
    [InlineData("99999999999999999999")]
    public void CheckBody_AnnotationPriorityNotAnIntegerFromOneToTen_IsRefused(string priority)
    {
        SingleError(Check("annotations.create", $$"""{"body":"x","priority":{{priority}}}"""), "priority");
    }

    [Fact]
    public void CheckBody_AnnotationPriorityWrittenWithZeroFraction_Passes()
    {
        Assert.True(Check("annotations.create", """{"body":"x","priority":5.0}""").IsValid);
    }

    [Theory]
    [InlineData("success")]
    [InlineData("info")]
    [InlineData("warning")]
    [InlineData("error")]
    public void CheckBody_AnnotationStyleDocumented_Passes(string style)
    {
        Assert.True(Check("annotations.create_on_job", $$"""{"body":"x","style":"{{style}}"}""").IsValid);
    }

    [Theory]
    [InlineData("danger")]
    [InlineData("Info")]
    [InlineData("")]
    public void CheckBody_AnnotationStyleUndocumented_ListsTheChoices(string style)
    {
        var problem = SingleError(Check("annotations.create", $$"""{"body":"x","style":"{{style}}"}"""), "style");

        Assert.Contains("success, info, warning, error", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_AnnotationBodyOfOneMebibyte_Passes()
    {
        // Multi-byte characters: the limit counts UTF-8 bytes, not characters.
        var body = string.Concat(Enumerable.Repeat("é", 512 * 1024));

        Assert.True(Check("annotations.create", $$"""{"body":"{{body}}"}""").IsValid);
    }

    [Fact]
    public void CheckBody_AnnotationBodyOverOneMebibyte_IsRefused()
    {
        var body = string.Concat(Enumerable.Repeat("é", 512 * 1024)) + "!";

        var problem = SingleError(Check("annotations.create", $$"""{"body":"{{body}}"}"""), "body");

        Assert.Contains("1,048,577 bytes", problem.Message, StringComparison.Ordinal);
        Assert.Contains("1 MiB", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_AnnotationBodyWhoseEscapesOnlyLookLong_Passes()
    {
        // 300,000 "\u00e9" escapes are 1.8 MB of JSON text but 600,000 bytes of UTF-8 once decoded.
        var body = string.Concat(Enumerable.Repeat("\\u00e9", 300_000));

        Assert.True(Check("annotations.create", $$"""{"body":"{{body}}"}""").IsValid);
    }

    [Fact]
    public void CheckBody_EscapedFieldName_IsRecognised()
    {
        Assert.True(Check("builds.create", """{"comm\u0069t":"HEAD","branch":"main"}""").IsValid);
    }

    [Fact]
    public void CheckBody_CreatePipelineWithoutClusterId_Passes()
    {
        Assert.True(Check("pipelines.create", """{"name":"App","repository":"git@github.com:acme/app.git","configuration":"steps:\n  - command: make"}""").IsValid);
    }

    [Theory]
    [InlineData("""{"name":"App","repository":"r","steps":[{"type":"script","command":"make"}]}""")]
    [InlineData("""{"name":"App","repository":"r","pipeline_template_uuid":"018e5a22-d14c-7085-bb28-db0f83f43a1c"}""")]
    public void CheckBody_CreatePipelineWithStepsOrTemplateInsteadOfConfiguration_Passes(string json)
    {
        Assert.True(Check("pipelines.create", json).IsValid);
    }

    [Fact]
    public void CheckBody_CreatePipelineWithNoSteps_NamesConfigurationAndItsAlternatives()
    {
        var problem = SingleError(Check("pipelines.create", """{"name":"App","repository":"r"}"""), "configuration");

        Assert.Contains("`steps`", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_CreatePipelineWithBlankConfiguration_IsRefused()
    {
        SingleError(Check("pipelines.create", """{"name":"App","repository":"r","configuration":"  \n "}"""), "configuration");
    }

    [Theory]
    [InlineData("name")]
    [InlineData("repository")]
    public void CheckBody_CreatePipelineWithoutNameOrRepository_NamesIt(string field)
    {
        var body = field == "name" ? """{"repository":"r","configuration":"steps: []"}""" : """{"name":"App","configuration":"steps: []"}""";

        SingleError(Check("pipelines.create", body), field);
    }

    [Theory]
    [InlineData("my-pipeline")]
    [InlineData("App2")]
    [InlineData("a")]
    public void CheckBody_SlugFollowingThePattern_Passes(string slug)
    {
        Assert.True(Check("pipelines.update", $$"""{"slug":"{{slug}}"}""").IsValid);
    }

    [Theory]
    [InlineData("-leading-hyphen")]
    [InlineData("has space")]
    [InlineData("under_score")]
    [InlineData("café")]
    [InlineData("")]
    public void CheckBody_SlugBreakingThePattern_IsRefused(string slug)
    {
        SingleError(Check("pipelines.create", $$"""{"name":"App","repository":"r","configuration":"x","slug":"{{slug}}"}"""), "slug");
    }

    [Fact]
    public void CheckBody_SlugOver100Characters_IsRefused()
    {
        Assert.True(Check("pipelines.update", $$"""{"slug":"{{new string('a', 100)}}"}""").IsValid);

        var problem = SingleError(Check("pipelines.update", $$"""{"slug":"{{new string('a', 101)}}"}"""), "slug");

        Assert.Contains("101 characters", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_UpdatePipelineWithTeams_IsRefused()
    {
        var problem = SingleError(Check("pipelines.update", """{"teams":{"14e9501c-69fe-4cda-ae07-daea9ca3afd3":"read_only"}}"""), "teams");

        Assert.Contains("team_pipelines", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_CreatePipelineWithTeams_Passes()
    {
        Assert.True(Check("pipelines.create", """{"name":"App","repository":"r","configuration":"x","teams":{"14e9501c-69fe-4cda-ae07-daea9ca3afd3":"read_only"}}""").IsValid);
    }

    [Theory]
    [InlineData("\"failed\"")]
    [InlineData("\"failed, soft_failed,timed_out\"")]
    [InlineData("\"\"")]
    [InlineData("[\"canceled\",\"expired\"]")]
    public void CheckBody_RetryFailedJobsWithKnownStates_Passes(string states)
    {
        Assert.True(Check("builds.retry_failed_jobs", $$"""{"states":{{states}}}""").IsValid);
    }

    [Fact]
    public void CheckBody_RetryFailedJobsWithUnknownState_NamesIt()
    {
        var problem = SingleError(Check("builds.retry_failed_jobs", """{"states":"failed,broken"}"""), "states");

        Assert.Contains("\"broken\"", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBody_EndpointWithoutBodyGivenFields_IsValidAndWarns()
    {
        var check = Check("builds.cancel", """{"reason":"superseded"}""");

        Assert.True(check.IsValid);
        Assert.Equal(["reason"], check.UnknownFields);
        Assert.Contains("takes no body", Assert.Single(check.Warnings), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("builds.cancel")]
    [InlineData("pipelines.delete")]
    [InlineData("agents.resume")]
    public void CheckBody_EndpointWithoutBodyAndNoBody_Passes(string id)
    {
        var endpoint = Endpoint(id);

        Assert.False(endpoint.TakesBody);
        Assert.True(endpoint.CheckBody(default).IsValid);
        Assert.True(endpoint.CheckBody(Parse("{}")).IsValid);
    }

    [Fact]
    public void CheckBody_QueuePauseNote_TakesEitherName()
    {
        Assert.True(Check("queues.pause", """{"note":"investigating"}""").IsValid);
        Assert.True(Check("queues.pause", """{"dispatch_paused_note":"investigating"}""").IsValid);
    }

    [Fact]
    public void CheckBody_HostedQueueWithoutInstanceShape_NamesTheNestedField()
    {
        SingleError(Check("queues.create", """{"key":"linux","hostedAgents":{}}"""), "hostedAgents.instanceShape");
    }

    [Theory]
    [InlineData("team_pipelines.create", """{"pipeline_id":"p","access_level":"read"}""", "access_level")]
    [InlineData("team_members.update", """{"role":"owner"}""", "role")]
    [InlineData("teams.create", """{"name":"Ops","privacy":"hidden"}""", "privacy")]
    [InlineData("queues.update", """{"retry_agent_affinity":"prefer-newest"}""", "retry_agent_affinity")]
    [InlineData("pipelines.create", """{"name":"App","repository":"r","configuration":"x","visibility":"internal"}""", "visibility")]
    public void CheckBody_UndocumentedEnumValue_IsRefused(string id, string json, string field)
    {
        SingleError(Check(id, json), field);
    }

    [Fact]
    public void CheckBody_TeamCreateWithOnlyAName_Passes()
    {
        Assert.True(Check("teams.create", """{"name":"Ops"}""").IsValid);
    }

    [Fact]
    public void CheckBody_EveryError_IsASentenceNamingItsField()
    {
        var check = Check("builds.create", """{"commit":1,"author":{"email":false},"meta_data":{"k":[]},"clean_checkout":"yes"}""");

        Assert.Equal(["commit", "author.email", "meta_data.k", "clean_checkout", "branch"], check.Errors.Select(error => error.Field));
        Assert.All(check.Errors, error =>
        {
            Assert.Contains($"`{error.Field}`", error.Message, StringComparison.Ordinal);
            Assert.EndsWith(".", error.Message, StringComparison.Ordinal);
        });
    }
}
