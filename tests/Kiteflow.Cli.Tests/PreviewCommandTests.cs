using System.Text.Json;

namespace Kiteflow.Cli.Tests;

public sealed class PreviewCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-preview-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string, string, string, string, int> Examples => new()
    {
        { "trigger-builds/destination.json", "trigger-builds/builds.jsonl", "builds.create", "write_builds", 24 },
        { "create-pipelines/destination.json", "create-pipelines/pipelines.csv", "pipelines.create", "write_pipelines", 3 },
        { "annotate-builds/destination.json", "annotate-builds/annotations.json", "annotations.create", "write_builds", 3 },
        { "annotate-from-responses/destination.json", "annotate-from-responses/responses.jsonl", "annotations.create", "write_builds", 3 },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task PreviewJson_Examples_FollowTheContract(string destination, string input, string endpoint, string scope, int records)
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "--destination", CliRunner.Example(destination), "--input", CliRunner.Example(input), "--all", "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Equal(endpoint, root.GetProperty("endpoint").GetString());
        Assert.Equal(scope, root.GetProperty("scope").GetString());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("rejected").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("warnings").ValueKind);
        var requests = root.GetProperty("requests").EnumerateArray().ToList();
        Assert.Equal(records, requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            Assert.Equal("POST", request.GetProperty("method").GetString());
            Assert.StartsWith("https://api.buildkite.com/v2/organizations/acme/pipelines", request.GetProperty("url").GetString());
            var headers = request.GetProperty("headers");
            Assert.Equal("Bearer ••••", headers.GetProperty("Authorization").GetString());
            Assert.Equal("application/json", headers.GetProperty("Content-Type").GetString());
            Assert.Equal(JsonValueKind.Object, request.GetProperty("body").ValueKind);
            Assert.Equal([i], request.GetProperty("records").EnumerateArray().Select(r => r.GetInt32()));
            Assert.False(request.GetProperty("body").TryGetProperty("org", out _), "org is excluded from the body");
        }
    }

    [Fact]
    public async Task PreviewJson_DefaultLimitIsFive_BodyKeepsUnicode()
    {
        var (_, output, _) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "--json");

        using var document = JsonDocument.Parse(output);
        Assert.Equal(5, document.RootElement.GetProperty("requests").GetArrayLength());
        Assert.Contains("🚂", output);
        Assert.DoesNotContain("\\u", output);
    }

    [Fact]
    public async Task PreviewJson_Rejections_CarryRecordLineStageAndMessage()
    {
        var input = Write("in.jsonl", """
            {"org":"acme","pipeline":"web","commit":"a","branch":"main"}
            {"org":"acme","commit":"a","branch":"main"}
            {broken
            {"org":"acme","pipeline":"web","commit":"a"}
            """);

        var (exitCode, output, _) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", input, "--all", "--json");

        Assert.Equal(0, exitCode);
        using var document = JsonDocument.Parse(output);
        var rejected = document.RootElement.GetProperty("rejected").EnumerateArray()
            .Select(r => (r.GetProperty("record").GetInt32(), r.GetProperty("line").GetInt32(), r.GetProperty("stage").GetString()))
            .ToList();
        Assert.Equal([(1, 2, "template"), (2, 3, "read"), (3, 4, "validate")], rejected);
    }

    [Fact]
    public async Task Preview_InvalidDestination_ExitsTwoListingEveryProblem()
    {
        var destination = Write("bad.json", """{"method":"FETCH","url":"https://evil.example.com/v2/{x}","headers":"Authorization:Bearer abc","batching":{"batchSize":0}}""");
        var input = Write("in.jsonl", "{}");

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("method:", error);
        Assert.Contains("batching.batchSize:", error);
        Assert.DoesNotContain("abc", error.Replace("batchSize", string.Empty, StringComparison.Ordinal).Replace("bad.json", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Preview_CommentInsideOtherProps_PlansTheBodyWithoutIt()
    {
        // Destination files allow comments everywhere; one inside otherProps threw a JsonReaderException.
        var destination = Write("property.json", """
            {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds",
             "batching":{"enabled":true,"algorithm":"property","propertyName":"builds",
                         "otherProps":{ /* who */ "source":"kiteflow", // trailing comma next
                                        }}}
            """);
        var input = Write("in.jsonl", """{"org":"acme","pipeline":"web","commit":"a","branch":"main"}""");

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input, "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var body = document.RootElement.GetProperty("requests")[0].GetProperty("body");
        Assert.Equal("kiteflow", body.GetProperty("source").GetString());
        Assert.Equal(1, body.GetProperty("builds").GetArrayLength());
    }

    [Fact]
    public async Task Preview_InvalidUrlAndHeaders_BothReported()
    {
        var destination = Write("bad.json", """{"url":"https://evil.example.com/v2/{x}","headers":"Content-Type:text/plain"}""");
        var input = Write("in.jsonl", "{}");

        var (exitCode, _, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input);

        Assert.Equal(2, exitCode);
        Assert.Contains("url: Kiteflow sends the token only to", error);
        Assert.Contains("headers: Content-Type is managed by Kiteflow", error);
    }

    [Fact]
    public async Task Preview_UnknownKeyAndBatchingError_DoNotHideHeaderErrors()
    {
        var destination = Write("bad.json", """{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","retries":3,"headers":"Content-Type:text/plain","batching":{"enabled":true,"batchSize":0}}""");
        var input = Write("in.jsonl", "{}");

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("(3 problems)", error);
        Assert.Contains("retries: Unknown setting", error);
        Assert.Contains("batching.batchSize:", error);
        Assert.Contains("headers: Content-Type is managed by Kiteflow", error);
    }

    [Fact]
    public async Task Preview_Text_ShowsRequestsRejectionsAndWarnings()
    {
        var input = Write("in.jsonl", """
            {"org":"acme","pipeline":"web","commit":"a","branch":"main","brnach":"x"}
            {"org":"acme","commit":"a","branch":"main"}
            """);

        var (exitCode, output, _) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", input);

        Assert.Equal(0, exitCode);
        Assert.Contains("POST https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds", output);
        Assert.Contains("Authorization: Bearer ••••", output);
        Assert.Contains("record 1, line 2 [template] {pipeline}", output);
        Assert.Contains("did you mean `branch`?", output);
        Assert.Contains("Nothing was sent.", output);
    }

    [Fact]
    public async Task Preview_ApiBase_RewritesTheHost()
    {
        var (_, output, _) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "-n", "1", "--json", "--api-base", "http://127.0.0.1:43121");

        using var document = JsonDocument.Parse(output);
        Assert.Equal("http://127.0.0.1:43121/v2/organizations/acme/pipelines/web/builds", document.RootElement.GetProperty("requests")[0].GetProperty("url").GetString());
    }

    [Fact]
    public async Task PreviewJson_Threads_SamePreviewOnOneThreadAsOnSeveral()
    {
        string[] args = ["preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "--all", "--json"];

        var one = await CliRunner.RunAsync([.. args, "--threads", "1"]);
        var three = await CliRunner.RunAsync([.. args, "--threads", "3"]);

        Assert.True(one.ExitCode == 0, one.Error);
        Assert.Equal(one.Output, three.Output);
        using var document = JsonDocument.Parse(one.Output);
        Assert.Equal(24, document.RootElement.GetProperty("requests").GetArrayLength());
    }

    [Fact]
    public async Task Preview_MissingInput_ExitsOneWithTheReason()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", Path.Combine(_directory, "nope.jsonl"));

        Assert.Equal(1, exitCode);
        Assert.Contains("--input: ", error);
        Assert.Contains("nope.jsonl' does not exist", error);
    }

    [Fact]
    public async Task Preview_DeliveryIdIsStableForTheSameCommand()
    {
        string[] args = ["preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", CliRunner.Example("trigger-builds/builds.jsonl"), "-n", "2", "--json"];

        var first = await CliRunner.RunAsync(args);
        var second = await CliRunner.RunAsync(args);

        using var document = JsonDocument.Parse(first.Output);
        var id = document.RootElement.GetProperty("requests")[1].GetProperty("body").GetProperty("meta_data").GetProperty("kiteflow_delivery_id").GetString();
        Assert.Matches("^kf[0-9a-f]{16}-1$", id);
        Assert.Equal(first.Output, second.Output);
    }

    [Fact]
    public async Task PreviewJson_AnnotateFromResponses_BodiesFromTheTemplate_FailedCallRejectedNamingTheMacro()
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("annotate-from-responses/destination.json"), "-i", CliRunner.Example("annotate-from-responses/responses.jsonl"), "--all", "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Empty(root.GetProperty("warnings").EnumerateArray());
        var first = root.GetProperty("requests")[0];
        Assert.Equal("https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds/9/annotations", first.GetProperty("url").GetString());
        Assert.Equal(
            """{"context":"release-train","style":"info","body":"Release train **REL-4000**: [build #9](https://buildkite.com/acme/web/builds/9) of `818e015feb2e0f4164dbdff9dcfba781e78f4f86` on `release/2026.0`, requested by zoe@example.com."}""",
            JsonSerializer.Serialize(first.GetProperty("body"), new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        var rejected = Assert.Single(root.GetProperty("rejected").EnumerateArray());
        Assert.Equal(3, rejected.GetProperty("record").GetInt32());
        Assert.Equal("template", rejected.GetProperty("stage").GetString());
        Assert.StartsWith("{response.body.pipeline.slug}:", rejected.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Preview_BadBodyTemplate_ExitsTwoNamingTheKey()
    {
        var destination = Write("bad.json", """
            {"url":"https://api.buildkite.com/v2/organizations/acme/pipelines/{p}/builds/{n}/annotations",
             "excludeAttributes":["p"],
             "bodyTemplate":{"body":"Deployed {commit", "style":"{now+x}"}}
            """);
        var input = Write("in.jsonl", "{}");

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("bodyTemplate.body: In \"Deployed {commit\": the '{' at character 10 is not closed by a '}'", error);
        Assert.Contains("bodyTemplate.style:", error);
        Assert.Contains("excludeAttributes: excludeAttributes has no effect with a bodyTemplate", error);
    }

    [Fact]
    public async Task Preview_ScriptResultNested70Deep_RejectedAtScript_NotACrash()
    {
        var code = "function batch(records) { var o = { n: records.length }; for (var i = 1; i < 70; i++) { o = { a: o }; } return o; }";
        var destination = Write("deep.json", JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, algorithm = "code", code } }));
        var input = Write("in.jsonl", "{\"id\":1}\n{\"id\":2}\n");

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input);

        Assert.True(exitCode == 0, error);
        Assert.Contains("[script] The batching script failed: batch() returned a value nested deeper than 64 levels; flatten it.", output);
        Assert.Contains("Nothing was sent.", output);
    }

    [Theory]
    [InlineData("json-array")]
    [InlineData("property")]
    public async Task Preview_BatchOfRecordsNested64Deep_ShowsTheBody(string algorithm)
    {
        var destination = Write("batch.json", JsonSerializer.Serialize(new { url = "https://api.buildkite.com/v2/bulk", batching = new { enabled = true, algorithm, propertyName = "items" } }));
        var record = string.Concat(Enumerable.Repeat("{\"a\":", 63)) + "1" + new string('}', 63);
        var input = Write("in.jsonl", "{\"id\":" + record + "}\n");

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input);

        Assert.True(exitCode == 0, error);
        Assert.Contains("Request 1 · record 0", output);
        Assert.Contains("\"id\": {", output);
    }

    [Fact]
    public async Task Preview_ExcludedAttributeNoRecordReadHas_WarnedSayingOnlyPartWasRead()
    {
        var destination = Write("dest.json", """{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline","author.emial"]}""");
        var input = Write("in.jsonl", string.Join('\n', Enumerable.Range(0, 40).Select(i => JsonSerializer.Serialize(new { org = "acme", pipeline = "web", commit = $"c{i}", branch = "main", author = new { email = "a@example.com" } }))));

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", destination, "-i", input, "-n", "1");

        Assert.True(exitCode == 0, error);
        Assert.Contains("! excludeAttributes \"author.emial\": none of the ", output);
        Assert.Contains("(only part of the input was read); did you mean \"author.email\"?", output);
    }

    [Fact]
    public async Task Preview_EmptyInput_Warned()
    {
        var input = Write("empty.jsonl", string.Empty);

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", input);

        Assert.True(exitCode == 0, error);
        Assert.Contains("! The input holds no records, so there is nothing to send", output);
    }

    [Fact]
    public async Task Preview_EveryRecordRejected_StopsAtTheLimit_OneLinePerReason()
    {
        var input = Write("bad.jsonl", string.Join('\n', Enumerable.Range(0, 400).Select(i => $"{{broken {i}")));

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", input);

        Assert.True(exitCode == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length < 15, $"{lines.Length} lines:\n{output}");
        Assert.Contains("Rejected: 100 records", output);
        Assert.Contains("  100 records [read] Malformed JSON at column 2", output);
        Assert.Contains("    records 0, 1, 2, 3, 4, … (lines 1, 2, 3, 4, 5, …)", output);
        Assert.Contains("Planned 0 requests from 100 records read, 100 rejected; shown: the first 100 rejected records, where the preview stopped (--all plans the whole input).", output);
    }

    [Fact]
    public async Task Preview_RejectionsByReason_EachReasonCounted()
    {
        var input = Write("mixed.jsonl", string.Join('\n', Enumerable.Range(0, 30).Select(i => i % 3 == 0
            ? JsonSerializer.Serialize(new { org = "acme", pipeline = "web", commit = $"c{i}", branch = "main" })
            : i % 3 == 1 ? JsonSerializer.Serialize(new { org = "acme", commit = "c" }) : "[1, 2]")));

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", input, "--all");

        Assert.True(exitCode == 0, error);
        Assert.Contains("Rejected: 20 records", output);
        Assert.Contains("  10 records [template] {pipeline}", output);
        Assert.Contains("    records 1, 4, 7, 10, 13, … (lines 2, 5, 8, 11, 14, …)", output);
        Assert.Contains("  10 records [read] The record is an array, not a JSON object", output);
        Assert.Contains("Planned 10 requests from 30 records read, 20 rejected; shown: the whole input.", output);
    }

    [Fact]
    public async Task PreviewJson_AllOfManyRejections_ListBoundedWithHowManyMore()
    {
        var input = Write("bad.jsonl", string.Join('\n', Enumerable.Range(0, 400).Select(i => $"{{broken {i}")));

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", input, "--all", "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var rejected = document.RootElement.GetProperty("rejected");
        Assert.Equal(100, rejected.GetArrayLength());
        Assert.Equal(99, rejected[99].GetProperty("record").GetInt32());
        Assert.Equal(300, document.RootElement.GetProperty("moreRejected").GetInt32());
    }

    [Fact]
    public async Task PreviewJson_EveryRecordRejected_StopsAtTheLimit()
    {
        var input = Write("bad.jsonl", string.Join('\n', Enumerable.Range(0, 400).Select(i => $"{{broken {i}")));

        var (exitCode, output, error) = await CliRunner.RunAsync("preview", "-d", CliRunner.Example("trigger-builds/destination.json"), "-i", input, "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(100, document.RootElement.GetProperty("rejected").GetArrayLength());
        Assert.Equal(0, document.RootElement.GetProperty("moreRejected").GetInt32());
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
