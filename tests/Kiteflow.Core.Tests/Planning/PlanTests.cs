using System.Text.Json;
using Kiteflow.Core.Planning;
using static Kiteflow.Core.Tests.Planning.PlanTestHelpers;

namespace Kiteflow.Core.Tests.Planning;

public sealed class PlanTests
{
    private const string TriggerBuilds = $$"""{"url":"{{BuildsUrl}}","excludeAttributes":["org","pipeline"]}""";

    [Fact]
    public void Plan_OneRequestPerRecord_WithDeliveryIdAndPositions()
    {
        var destination = Compile(TriggerBuilds, new PlannerOptions { DeliveryIdPrefix = "kfrun" });

        var (requests, rejections, _) = PlanAll(destination, """
            {"org":"acme","pipeline":"web","commit":"abc","branch":"main"}

            {"org":"acme","pipeline":"api","commit":"def","branch":"dev","meta_data":{"t":"1"}}
            """);

        Assert.Empty(rejections);
        Assert.Equal(2, requests.Count);
        Assert.Equal("builds.create", destination.Endpoint!.Id);
        Assert.Equal("write_builds", destination.Scope);
        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/api/builds", requests[1].Url);
        Assert.Equal([1L], requests[1].Records);
        Assert.Equal("application/json", requests[1].ContentType);
        Assert.Equal("""{"commit":"def","branch":"dev","meta_data":{"t":"1","kiteflow_delivery_id":"kfrun-1"}}""", BodyText(requests[1]));
        Assert.Equal("kfrun-1", requests[1].DeliveryId);
    }

    [Fact]
    public void Plan_BadRecords_RejectedAtTheirStage_OthersPlanned()
    {
        var destination = Compile(TriggerBuilds);

        var (requests, rejections, _) = PlanAll(destination, """
            {"org":"acme","pipeline":"web","commit":"abc","branch":"main"}
            {"org":"acme","commit":"abc","branch":"main"}
            {"org":"acme","pipeline":"web","commit":"abc"}
            not json
            {"org":"acme","pipeline":"web","commit":"abc","branch":"main"}
            """);

        Assert.Equal([0L, 4L], requests.SelectMany(r => r.Records));
        Assert.Collection(
            rejections,
            r => Assert.Equal((1L, 2L, RejectionStage.Template), (r.Record, r.Line!.Value, r.Stage)),
            r =>
            {
                Assert.Equal((2L, 3L, RejectionStage.Validate), (r.Record, r.Line!.Value, r.Stage));
                Assert.Contains("branch", r.Message);
                Assert.Contains("\"commit\":\"abc\"", r.RecordJson);
            },
            r => Assert.Equal((3L, 4L, RejectionStage.Read), (r.Record, r.Line!.Value, r.Stage)));
    }

    [Fact]
    public void Plan_BadRecords_StreamedWhenNotChecked_SameRejectionsAsParsed()
    {
        // One request per record to create-build is checked against the catalog, so its records are parsed into
        // documents; batched records are not checked, and are shaped in one pass over their bytes. A bad record
        // must be rejected the same way by both: same stage, line and message.
        var input = "{\"org\":\"acme\",\"pipeline\":\"web\",\"branch\":\"main\",\"commit\":\"a\"}\n"
            + "not json\n"
            + "[1,2]\n"
            + "{\"org\":\"acme\",\"pipeline\":\"web\",\"a\":1,}\n"
            + "{\"org\":\"acme\",\"pipeline\":\"web\",\"a\":\"\\x\"}\n"
            + "{\"org\":\"acme\",\"pipeline\":\"web\"} trailing\n"
            + "{\"org\":\"acme\",\"pipeline\":\"web\",\"deep\":" + new string('[', 70) + new string(']', 70) + "}\n"
            + "{\"org\":\"acme\",\"pipeline\":\"caf\u00FF\"}\n"  // made invalid UTF-8 below
            + "{\"org\":\"acme\",\"branch\":\"main\",\"commit\":\"a\"}\n";
        var parsed = Compile(TriggerBuilds);
        var streamed = Compile($$$"""{"url":"{{{BuildsUrl}}}","excludeAttributes":["org","pipeline"],"batching":{"enabled":true,"batchSize":10,"algorithm":"property","propertyName":"builds"}}""");

        var bytes = System.Text.Encoding.UTF8.GetBytes(input);
        bytes[Array.IndexOf(bytes, (byte)0xC3)] = 0xFF;  // ÿ's lead byte: a byte UTF-8 never has

        var (_, parsedRejections) = PlanBytes(parsed, bytes);
        var (requests, streamedRejections) = PlanBytes(streamed, bytes);

        Assert.Equal(8, parsedRejections.Count);
        Assert.Equal(
            parsedRejections.Select(r => (r.Record, r.Line, r.Stage, r.Message)),
            streamedRejections.Select(r => (r.Record, r.Line, r.Stage, r.Message)));
        Assert.Equal([0L], Assert.Single(requests).Records);
        Assert.Equal("""{"builds":[{"branch":"main","commit":"a","meta_data":{"kiteflow_delivery_id":"preview-0"}}]}""", BodyText(requests[0]));
    }

    private static (List<PlannedRequest> Requests, List<Rejection> Rejections) PlanBytes(Destination destination, byte[] jsonLines)
    {
        using var plan = destination.Plan(Kiteflow.Core.Records.RecordReader.Create(new MemoryStream(jsonLines), Kiteflow.Core.Records.InputFormat.JsonLines));
        var items = plan.ToList();
        return ([.. items.Where(i => i.Request is not null).Select(i => i.Request!)], [.. items.Where(i => i.Rejection is not null).Select(i => i.Rejection!)]);
    }

    [Fact]
    public void Plan_PrettyPrintedRecords_Streamed_CompactBodiesAndTheirUrls()
    {
        var destination = Compile($$$"""{"url":"{{{BuildsUrl}}}","excludeAttributes":["org","pipeline","author.email"],"batching":{"enabled":true,"batchSize":2,"algorithm":"json-array"}}""");
        var reader = Kiteflow.Core.Records.RecordReader.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("""
            [
              { "org" : "acme", "pipeline" : "web",
                "author" : { "name" : "Zo\u00eb", "email" : "z@x.io" }, "n" : 1.50 },
              { "pipeline" : "web", "org" : "acme", "msg" : "caf\u00e9 \"q\"" }
            ]
            """)), Kiteflow.Core.Records.InputFormat.JsonArray);
        using var plan = destination.Plan(reader);

        var request = Assert.Single(plan).Request!;

        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds", request.Url);
        Assert.Equal("""[{"author":{"name":"Zoë"},"n":1.50,"meta_data":{"kiteflow_delivery_id":"preview-0"}},{"msg":"café \"q\"","meta_data":{"kiteflow_delivery_id":"preview-0"}}]""", BodyText(request));
    }

    [Fact]
    public void Plan_UnknownField_WarnsWithSuggestionAndRecords()
    {
        var destination = Compile(TriggerBuilds);

        var (requests, _, warnings) = PlanAll(destination, """
            {"org":"acme","pipeline":"web","commit":"abc","branch":"main","brnach":"x"}
            {"org":"acme","pipeline":"web","commit":"abc","branch":"main"}
            {"org":"acme","pipeline":"web","commit":"abc","branch":"main","brnach":"y"}
            """);

        Assert.Equal(3, requests.Count);
        var warning = Assert.Single(warnings);
        Assert.Contains("brnach", warning);
        Assert.Contains("did you mean `branch`?", warning);
        Assert.Contains("records 0, 2", warning);
    }

    [Fact]
    public void Plan_ExcludedFieldsAreNotValidated()
    {
        // "author" is not an object here, which builds.create refuses; excluding it makes the body valid.
        var destination = Compile($$"""{"url":"{{BuildsUrl}}","excludeAttributes":["org","pipeline","author"]}""");

        var (requests, rejections, _) = PlanAll(destination, """{"org":"acme","pipeline":"web","commit":"abc","branch":"main","author":"Ann"}""");

        Assert.Single(requests);
        Assert.Empty(rejections);
    }

    [Fact]
    public void Plan_JsonArrayBatching_GroupsByUrlInDatasetOrder_AndWarnsOneObjectPerCall()
    {
        var destination = Compile($$$"""{"url":"{{{BuildsUrl}}}","excludeAttributes":["org","pipeline"],"batching":{"enabled":true,"batchSize":2}}""");

        var (requests, _, warnings) = PlanAll(destination, """
            {"org":"acme","pipeline":"web","n":0}
            {"org":"acme","pipeline":"api","n":1}
            {"org":"acme","pipeline":"web","n":2}
            {"org":"acme","pipeline":"api","n":3}
            {"org":"acme","pipeline":"web","n":4}
            """);

        Assert.Equal(3, requests.Count);
        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds", requests[0].Url);
        Assert.Equal([0L, 2L], requests[0].Records);
        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/api/builds", requests[1].Url);
        Assert.Equal([1L, 3L], requests[1].Records);
        Assert.Equal([4L], requests[2].Records);
        Assert.Equal("""[{"n":0,"meta_data":{"kiteflow_delivery_id":"preview-0"}},{"n":2,"meta_data":{"kiteflow_delivery_id":"preview-0"}}]""", BodyText(requests[0]));
        Assert.Contains(warnings, w => w.Contains("takes one object per call", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_HeadersWithMacros_SplitGroups()
    {
        var destination = Compile("""{"url":"https://api.buildkite.com/v2/bulk","headers":"X-Team:{team}","batching":{"enabled":true,"batchSize":10}}""");

        var (requests, _, _) = PlanAll(destination, """
            {"team":"a","n":0}
            {"team":"b","n":1}
            {"team":"a","n":2}
            """);

        Assert.Equal(2, requests.Count);
        Assert.Equal([0L, 2L], requests[0].Records);
        Assert.Equal("a", requests[0].Headers.Single().Value);
        Assert.Equal("b", requests[1].Headers.Single().Value);
    }

    [Fact]
    public void Plan_PropertyBatching_OtherPropsBesideRecords()
    {
        var destination = Compile("""{"url":"https://api.buildkite.com/v2/bulk","batching":{"enabled":true,"batchSize":3,"algorithm":"property","propertyName":"builds","otherProps":{"source":"kiteflow","v":2}}}""");

        var (requests, _, _) = PlanAll(destination, "{\"a\":1}\n{\"a\":2}\n");

        Assert.Equal("""{"source":"kiteflow","v":2,"builds":[{"a":1},{"a":2}]}""", BodyText(Assert.Single(requests)));
    }

    [Fact]
    public void Plan_ByteCeiling_StartsANewBatch_AndOversizedRecordRejected()
    {
        var destination = Compile("""{"url":"https://api.buildkite.com/v2/bulk","batching":{"enabled":true,"batchSize":100,"maxBatchBytes":1024}}""");
        var line = $$"""{"v":"{{new string('x', 300)}}"}""";
        var huge = $$"""{"v":"{{new string('y', 2000)}}"}""";

        var (requests, rejections, _) = PlanAll(destination, string.Join('\n', line, line, line, huge, line, line));

        Assert.All(requests, r => Assert.True(r.Body!.Length <= 1024, $"body of {r.Body.Length} bytes"));
        Assert.Equal([[0L, 1L, 2L], [4L, 5L]], requests.Select(r => r.Records));
        var rejection = Assert.Single(rejections);
        Assert.Equal((3L, RejectionStage.Validate), (rejection.Record, rejection.Stage));
        Assert.Contains("maxBatchBytes", rejection.Message);
    }

    [Fact]
    public void Plan_CodeBatching_ScriptShapesTheBody()
    {
        var code = "function batch(records, context) { return { destination: context.destination, index: context.batchIndex, url: context.url, commits: records.map(r => r.commit) }; }";
        var destination = Compile(JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, batchSize = 2, algorithm = "code", code } }));

        var (requests, _, _) = PlanAll(destination, "{\"commit\":\"a\"}\n{\"commit\":\"b\"}\n{\"commit\":\"c\"}\n");

        Assert.Equal("""{"destination":"test","index":0,"url":"https://api.buildkite.com/v2/bulk","commits":["a","b"]}""", BodyText(requests[0]));
        Assert.Equal("""{"destination":"test","index":1,"url":"https://api.buildkite.com/v2/bulk","commits":["c"]}""", BodyText(requests[1]));
    }

    [Fact]
    public void Plan_CodeReturningString_SentAsIs()
    {
        var code = "function batch(records) { return records.map(r => r.id).join('|'); }";
        var destination = Compile(JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, algorithm = "code", code } }));

        var (requests, _, _) = PlanAll(destination, "{\"id\":1}\n{\"id\":2}\n");

        Assert.Equal("1|2", BodyText(Assert.Single(requests)));
        Assert.False(requests[0].BodyIsJson);
    }

    [Theory]
    [InlineData("function batch(records) { while (true) {} }", "look for an endless loop")]
    [InlineData("function batch(records) {\n  var x = 1;\n  return records[0].missing.deeper;\n}", "line 3")]
    [InlineData("function batch(records) { return f(1); } function f(n) { return f(n + 1); }", "recursed deeper than its limit")]
    [InlineData("function batch(records) { var a = []; while (true) { a.push(new Array(100000).fill('x')); } }", "limit")]
    [InlineData("function batch(records) { return 42; }", "return an object, an array or a string")]
    public void Plan_ScriptFailure_RejectsTheBatchWithTheMessage_AndPlanningGoesOn(string code, string expected)
    {
        var destination = Compile(JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, batchSize = 2, algorithm = "code", code } }));

        var (requests, rejections, _) = PlanAll(destination, "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");

        Assert.Empty(requests);
        Assert.Equal([0L, 1L, 2L], rejections.Select(r => r.Record));
        Assert.All(rejections, r => Assert.Equal(RejectionStage.Script, r.Stage));
        Assert.Contains(expected, rejections[0].Message);
    }

    [Fact]
    public void Compile_ScriptSyntaxError_IsASettingsProblemWithLine()
    {
        var problems = Problems(JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, algorithm = "code", code = "function batch(records) {\n  return {;\n}" } }));

        var problem = Assert.Single(problems);
        Assert.Equal("batching.code", problem.Key);
        Assert.Contains("line 2", problem.Message);
    }

    [Fact]
    public void Compile_ScriptWithoutBatchFunction_IsAProblem()
    {
        var problems = Problems(JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, algorithm = "code", code = "var x = 1;" } }));

        Assert.Contains("must define function batch", Assert.Single(problems).Message);
    }

    [Fact]
    public void Compile_ScriptHasNoDotNetAccess()
    {
        var code = "function batch(records) { return { t: typeof System, i: typeof importNamespace, r: typeof require }; }";
        var destination = Compile(JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, algorithm = "code", code } }));

        var (requests, _, _) = PlanAll(destination, "{\"id\":1}\n");

        Assert.Equal("""{"t":"undefined","i":"undefined","r":"undefined"}""", BodyText(Assert.Single(requests)));
    }

    [Fact]
    public void Plan_DeleteSendsNoBody()
    {
        var destination = Compile("""{"method":"DELETE","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{slug}"}""");

        var (requests, _, _) = PlanAll(destination, """{"org":"acme","slug":"old"}""");

        Assert.Equal("pipelines.delete", destination.Endpoint!.Id);
        Assert.Null(Assert.Single(requests).Body);
        Assert.Null(requests[0].ContentType);
    }

    [Fact]
    public void Plan_CancelTakesNoBody_NoneSent()
    {
        var destination = Compile("""{"method":"PUT","url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{p}/builds/{n}/cancel"}""");

        var (requests, _, warnings) = PlanAll(destination, """{"org":"acme","p":"web","n":3}""");

        Assert.Equal("builds.cancel", destination.Endpoint!.Id);
        Assert.Null(Assert.Single(requests).Body);
        Assert.Contains(warnings, w => w.Contains("takes no body", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_WrongMethodForAKnownPath_Warns()
    {
        var destination = Compile($$"""{"method":"PUT","url":"{{BuildsUrl}}"}""");

        Assert.Null(destination.Endpoint);
        Assert.Contains(destination.Warnings, w => w.Contains("builds.create", StringComparison.Ordinal) && w.Contains("POST", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_NonJsonFormatToBuildkite_Warns()
    {
        var destination = Compile($$"""{"url":"{{BuildsUrl}}","contentFormat":"form"}""");

        Assert.Contains(destination.Warnings, w => w.Contains("accepts JSON bodies only", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_NumbersPassThroughExactly()
    {
        var destination = Compile("""{"url":"https://api.buildkite.com/v2/things"}""");

        var (requests, _, _) = PlanAll(destination, """{"id":98765432109876543210,"ratio":1.0000000000000000000000000000000000000001,"e":1E+400}""");

        Assert.Equal("""{"id":98765432109876543210,"ratio":1.0000000000000000000000000000000000000001,"e":1E+400}""", BodyText(Assert.Single(requests)));
    }

    [Fact]
    public void Plan_IsLazy_ReadsOnlyWhatTheFirstRequestsNeed()
    {
        var destination = Compile("""{"url":"https://api.buildkite.com/v2/things"}""");
        var lines = string.Join('\n', Enumerable.Range(0, 10_000).Select(i => $$"""{"i":{{i}}}"""));
        var reader = Kiteflow.Core.Records.RecordReader.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(lines)), Kiteflow.Core.Records.InputFormat.JsonLines);
        using var plan = destination.Plan(reader);

        var first = plan.Take(3).ToList();

        Assert.Equal(3, first.Count);
        Assert.Equal(3, plan.RecordsRead);
    }

    private const string AnnotationsUrl = "https://api.buildkite.com/v2/organizations/acme/pipelines/{response.body.pipeline.slug}/builds/{response.body.number}/annotations";

    private const string AnnotateFromResponses = $$$"""
        {"url":"{{{AnnotationsUrl}}}",
         "bodyTemplate":{"body":"Deployed `{response.body.commit}` (build {response.body.number})","style":"{style=success}","context":"deploy","priority":"{priority=3}"}}
        """;

    private static string ResponseRecord(int number, string pipeline) =>
        $$"""{"destination":"trigger-builds","response":{"status":201,"body":{"number":{{number}},"commit":"c{{number}}","pipeline":{"slug":"{{pipeline}}"} } } }""";

    [Fact]
    public void Plan_BodyTemplate_EachBodyIsTheTemplateFilledFromItsRecord_NoWarnings()
    {
        var destination = Compile(AnnotateFromResponses);

        var (requests, rejections, warnings) = PlanAll(destination, ResponseRecord(1, "web") + "\n" + ResponseRecord(12, "api"));

        Assert.Empty(rejections);
        Assert.Empty(warnings);
        Assert.Equal("annotations.create", destination.Endpoint!.Id);
        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/api/builds/12/annotations", requests[1].Url);
        Assert.Equal("""{"body":"Deployed `c1` (build 1)","style":"success","context":"deploy","priority":3}""", BodyText(requests[0]));
        Assert.Equal("""{"body":"Deployed `c12` (build 12)","style":"success","context":"deploy","priority":3}""", BodyText(requests[1]));
        Assert.Null(requests[0].DeliveryId);
    }

    [Fact]
    public void Plan_BodyTemplate_FilledBodyCheckedAgainstTheCatalog()
    {
        var destination = Compile($$"""
            {"url":"{{AnnotationsUrl}}","bodyTemplate":{"body":"{note}","style":"{style}","priority":"{priority}","colour":"{style}"} }
            """);

        var (requests, rejections, warnings) = PlanAll(destination, """
            {"response":{"body":{"number":1,"pipeline":{"slug":"web"}}},"note":"ok","style":"info","priority":2}
            {"response":{"body":{"number":2,"pipeline":{"slug":"web"}}},"note":"bad style","style":"sucess","priority":2}
            {"response":{"body":{"number":3,"pipeline":{"slug":"web"}}},"note":"string priority","style":"info","priority":"2"}
            {"response":{"body":{"number":4,"pipeline":{"slug":"web"}}},"style":"info","priority":2}
            """);

        Assert.Equal([0L], requests.SelectMany(r => r.Records));
        Assert.Collection(
            rejections,
            r => Assert.Equal((1L, RejectionStage.Validate, true), (r.Record, r.Stage, r.Message.Contains("style", StringComparison.Ordinal))),
            r => Assert.Equal((2L, RejectionStage.Validate, true), (r.Record, r.Stage, r.Message.Contains("priority", StringComparison.Ordinal))),
            r => Assert.Equal((3L, RejectionStage.Template, true), (r.Record, r.Stage, r.Message.StartsWith("{note}:", StringComparison.Ordinal))));
        Assert.Contains("\"note\":\"bad style\"", rejections[0].RecordJson);  // the rejection keeps the record, not the body
        var warning = Assert.Single(warnings);
        Assert.Contains("colour", warning);
    }

    [Fact]
    public void Plan_BodyTemplate_MissingMacro_RejectsOnlyThatRecordAtStageTemplate()
    {
        var destination = Compile(AnnotateFromResponses);

        var (requests, rejections, _) = PlanAll(destination, string.Join('\n',
            ResponseRecord(1, "web"),
            """{"destination":"trigger-builds","response":{"status":422,"body":{"message":"Validation Failed","pipeline":{"slug":"web"},"number":5}}}""",
            """{"destination":"trigger-builds","response":{"status":422,"body":{"message":"Validation Failed"}}}""",
            ResponseRecord(3, "docs")));

        Assert.Equal([0L, 3L], requests.SelectMany(r => r.Records));
        Assert.Collection(
            rejections,
            r => Assert.Equal((1L, RejectionStage.Template), (r.Record, r.Stage)),
            r => Assert.Equal((2L, RejectionStage.Template), (r.Record, r.Stage)));
        Assert.StartsWith("{response.body.commit}: the record has no attribute 'response.body.commit'", rejections[0].Message);
        Assert.StartsWith("{response.body.pipeline.slug}:", rejections[1].Message);  // the URL is filled first
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Plan_HalfASurrogatePairInARecord_RejectedAtRead_OtherRecordsPlanned(bool bodyTemplate)
    {
        // The record's string is valid JSON but not text: it threw out of the whole plan, with a
        // template or without one.
        var destination = bodyTemplate ? Compile(AnnotateFromResponses) : Compile("""{"url":"https://api.buildkite.com/v2/organizations/acme/notes/{response.body.number}","method":"PUT"}""");
        var broken = ResponseRecord(2, "web").Replace("\"c2\"", "\"c\\ud800\"", StringComparison.Ordinal);

        var (requests, rejections, _) = PlanAll(destination, string.Join('\n', ResponseRecord(1, "web"), broken, ResponseRecord(3, "web")));

        Assert.Equal([0L, 2L], requests.SelectMany(r => r.Records));
        var rejection = Assert.Single(rejections);
        Assert.Equal((1L, RejectionStage.Read), (rejection.Record, rejection.Stage));
        Assert.StartsWith("The attribute \"response.body.commit\" holds \\ud800", rejection.Message);
        Assert.Equal(broken, rejection.OriginalText);
    }

    [Fact]
    public void Plan_BodyTemplate_CreateBuild_StillGetsItsDeliveryId()
    {
        var destination = Compile($$"""
            {"url":"{{BuildsUrl}}","bodyTemplate":{"commit":"{sha}","branch":"{ref=main}","meta_data":{"source":"kiteflow"} } }
            """, new PlannerOptions { DeliveryIdPrefix = "kfrun" });

        var (requests, _, _) = PlanAll(destination, """
            {"org":"acme","pipeline":"web","sha":"abc"}
            {"org":"acme","pipeline":"web","sha":"def","ref":"dev"}
            """);

        Assert.Equal("""{"commit":"abc","branch":"main","meta_data":{"source":"kiteflow","kiteflow_delivery_id":"kfrun-0"}}""", BodyText(requests[0]));
        Assert.Equal("""{"commit":"def","branch":"dev","meta_data":{"source":"kiteflow","kiteflow_delivery_id":"kfrun-1"}}""", BodyText(requests[1]));
        Assert.Equal("kfrun-1", requests[1].DeliveryId);
    }

    [Fact]
    public void Plan_BodyTemplate_Batched_BatchesHoldTheFilledBodies_WithTheBatchsDeliveryId()
    {
        var destination = Compile($$"""
            {"url":"{{BuildsUrl}}","bodyTemplate":{"commit":"{sha}","branch":"main"},
             "batching":{"enabled":true,"batchSize":2,"algorithm":"property","propertyName":"builds"} }
            """, new PlannerOptions { DeliveryIdPrefix = "kfrun" });

        var (requests, rejections, _) = PlanAll(destination, """
            {"org":"acme","pipeline":"web","sha":"a","noise":1}
            {"org":"acme","pipeline":"web","sha":"b"}
            {"org":"acme","pipeline":"web"}
            {"org":"acme","pipeline":"web","sha":"c"}
            """);

        Assert.Equal(2L, Assert.Single(rejections).Record);
        Assert.Equal(
            [
                """{"builds":[{"commit":"a","branch":"main","meta_data":{"kiteflow_delivery_id":"kfrun-0"}},{"commit":"b","branch":"main","meta_data":{"kiteflow_delivery_id":"kfrun-0"}}]}""",
                """{"builds":[{"commit":"c","branch":"main","meta_data":{"kiteflow_delivery_id":"kfrun-3"}}]}""",
            ],
            requests.Select(BodyText));
    }

    [Fact]
    public void Plan_BodyTemplate_BatchedJsonArray_FilledBodiesAsItems()
    {
        var destination = Compile("""
            {"url":"https://api.buildkite.com/v2/things","bodyTemplate":"{n}","batching":{"enabled":true,"batchSize":3}}
            """);

        var (requests, _, _) = PlanAll(destination, """
            {"n":1.10}
            {"n":{"x":[1]}}
            {"n":"three"}
            """);

        Assert.Equal("""[1.10,{"x":[1]},"three"]""", BodyText(Assert.Single(requests)));
    }

    [Fact]
    public void Plan_BodyTemplate_OtherFormats_WriteTheFilledBody()
    {
        var destination = Compile("""
            {"url":"https://api.buildkite.com/v2/things","contentFormat":"form","bodyTemplate":{"build":{"number":"{n}","note":"n = {n}"}}}
            """);

        var (requests, _, _) = PlanAll(destination, """{"n":7,"ignored":"x"}""");

        Assert.Equal("build[number]=7&build[note]=n+%3D+7", BodyText(Assert.Single(requests)));
    }

    [Theory]
    [InlineData("""{"url":"https://api.buildkite.com/v2/things","bodyTemplate":{"a":"{x"}}""", "bodyTemplate.a", "is not closed")]
    [InlineData("""{"url":"https://api.buildkite.com/v2/things","bodyTemplate":{"a":"{x}"},"excludeAttributes":["org"]}""", "excludeAttributes", "no effect with a bodyTemplate")]
    [InlineData("""{"url":"https://api.buildkite.com/v2/things/{id}","method":"DELETE","bodyTemplate":{"a":"{x}"}}""", "bodyTemplate", "DELETE sends no body")]
    [InlineData("""{"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/{n}/cancel","method":"PUT","bodyTemplate":{"a":"{x}"}}""", "bodyTemplate", "builds.cancel takes no body")]
    [InlineData("""{"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/{n}/annotations","bodyTemplate":["{x}"]}""", "bodyTemplate", "annotations.create takes a JSON object, and the template is an array")]
    public void Compile_BodyTemplateThatCannotWork_IsASettingsProblem(string settings, string key, string message)
    {
        var problem = Assert.Single(Problems(settings));

        Assert.Equal(key, problem.Key);
        Assert.Contains(message, problem.Message);
    }

    [Fact]
    public void Compile_BodyTemplateWithBatching_DoesNotWarnThatABatchedBodyIsRefusedUnlessBatched()
    {
        var single = Compile(AnnotateFromResponses);
        var batched = Compile($$"""
            {"url":"{{AnnotationsUrl}}","bodyTemplate":{"body":"{note}"},"batching":{"enabled":true,"batchSize":1} }
            """);

        Assert.Empty(single.Warnings);
        Assert.Contains(batched.Warnings, w => w.Contains("a batched body will be refused", StringComparison.Ordinal));
    }
}
