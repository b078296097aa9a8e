using System.Text.Json;
using Kiteflow.Core.Planning;
using static Kiteflow.Core.Tests.Planning.PlanTestHelpers;

namespace Kiteflow.Core.Tests.Scripting;

/// <summary>The code algorithm's limits: what the script runs and what it returns are bounded, and every failure rejects only its batch.</summary>
public sealed class BatchScriptTests
{
    private const string Records = "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n";

    private static Destination Script(string code, long? maxBatchBytes = null) =>
        Compile(JsonSerializer.Serialize(new
        {
            url = "https://api.buildkite.com/v2/bulk",
            batching = new { enabled = true, batchSize = 2, algorithm = "code", code, maxBatchBytes = maxBatchBytes ?? 5 * 1024 * 1024 },
        }));

    /// <summary>Plans three records in batches of two: both batches go through the script.</summary>
    private static (List<PlannedRequest> Requests, List<Rejection> Rejections) Run(string code, long? maxBatchBytes = null)
    {
        var (requests, rejections, _) = PlanAll(Script(code, maxBatchBytes), Records);
        return (requests, rejections);
    }

    private static void AssertEveryRecordRejectedAtScript(List<PlannedRequest> requests, List<Rejection> rejections, string expected)
    {
        Assert.Empty(requests);
        Assert.Equal([0L, 1L, 2L], rejections.Select(r => r.Record));
        Assert.All(rejections, r => Assert.Equal(RejectionStage.Script, r.Stage));
        Assert.All(rejections, r => Assert.Contains(expected, r.Message));
    }

    [Theory]
    [InlineData(65)]
    [InlineData(70)]
    [InlineData(50_000)]
    public void Run_ResultNestedDeeperThan64_RejectedAtScript(int depth)
    {
        var code = $"function batch(records) {{ var o = {{ id: 1 }}; for (var i = 1; i < {depth}; i++) {{ o = {{ a: o }}; }} return o; }}";

        var (requests, rejections) = Run(code);

        AssertEveryRecordRejectedAtScript(requests, rejections, "nested deeper than 64 levels");
    }

    [Fact]
    public void Run_ArrayResultNested50000Deep_RejectedAtScript()
    {
        var (requests, rejections) = Run("function batch(records) { var o = []; for (var i = 0; i < 50000; i++) { o = [o]; } return o; }");

        AssertEveryRecordRejectedAtScript(requests, rejections, "nested deeper than 64 levels");
    }

    [Fact]
    public void Run_ResultNested64Deep_IsTheBody()
    {
        var code = "function batch(records) { var o = records.length; for (var i = 0; i < 64; i++) { o = [o]; } return o; }";

        var (requests, rejections) = Run(code);

        Assert.Empty(rejections);
        Assert.Equal(new string('[', 64) + "2" + new string(']', 64), BodyText(requests[0]));
        using var parsed = JsonDocument.Parse(requests[0].Body);  // the default depth any reader of the body accepts
    }

    [Fact]
    public void Run_StringifyOfADeepValueInsideTheScript_RejectedAtScript_NotAStackOverflow()
    {
        var code = "function batch(records) { var o = {}; for (var i = 0; i < 50000; i++) { o = { a: o }; } return JSON.stringify(o); }";

        var (requests, rejections) = Run(code);

        AssertEveryRecordRejectedAtScript(requests, rejections, "call stack");
    }

    [Fact]
    public void Run_ObjectResultLargerThanMaxBatchBytes_RejectedAtScript()
    {
        var (requests, rejections) = Run("function batch(records) { var a = []; for (var i = 0; i < 100; i++) { a.push('x'.repeat(100)); } return { a: a }; }", maxBatchBytes: 4096);

        AssertEveryRecordRejectedAtScript(requests, rejections, "larger than batching.maxBatchBytes (4,096 bytes)");
    }

    [Fact]
    public void Run_StringResultLargerThanMaxBatchBytes_RejectedAtScript()
    {
        var (requests, rejections) = Run("function batch(records) { return 'é'.repeat(3000); }", maxBatchBytes: 4096);

        AssertEveryRecordRejectedAtScript(requests, rejections, "larger than batching.maxBatchBytes");
    }

    [Fact]
    public void Run_ResultThatContainsItself_RejectedAtScript()
    {
        var (requests, rejections) = Run("function batch(records) { var o = { records: records }; o.self = o; return o; }");

        AssertEveryRecordRejectedAtScript(requests, rejections, "contains itself");
    }

    [Fact]
    public void Run_BacktrackingRegex_StoppedAtTheTimeLimit_RejectedAtScript()
    {
        var code = "function batch(records) { return { matched: /^(a+)+$/.test('a'.repeat(40) + '!') }; }";

        var (requests, rejections) = Run(code);

        AssertEveryRecordRejectedAtScript(requests, rejections, "regular expression ran longer than the script's time limit of 2 s");
    }

    [Theory]
    [InlineData("'x'.repeat(300 * 1024 * 1024)", "repeat()")]
    [InlineData("'x'.padStart(300 * 1024 * 1024)", "padStart()")]
    [InlineData("'x'.padEnd(300 * 1024 * 1024, 'yz')", "padEnd()")]
    [InlineData("new Array(100000).fill('x'.repeat(1000)).join('')", "join()")]
    [InlineData("new Array(1000).join('x'.repeat(100000))", "join()")]
    public void Run_OneHugeString_RefusedBeforeItIsMade_RejectedAtScript(string expression, string builtIn)
    {
        var (requests, rejections) = Run($"function batch(records) {{ return {{ length: {expression}.length }}; }}");

        AssertEveryRecordRejectedAtScript(requests, rejections, "more memory than its limit of 64 MiB");
        Assert.Contains(builtIn, rejections[0].Message);
    }

    [Fact]
    public void Run_HugeArray_RefusedWhenMade_RejectedAtScript()
    {
        var (requests, rejections) = Run("function batch(records) { return { length: new Array(50000000).fill(0).length }; }");

        AssertEveryRecordRejectedAtScript(requests, rejections, "more memory than its limit of 64 MiB");
    }

    [Fact]
    public void Run_MemoryFilledBitByBit_EveryBatchGetsTheSameMessage()
    {
        // Jint's own message counts the bytes allocated, which differ from batch to batch, so the preview's list
        // of rejections by reason had one entry per batch for one and the same problem.
        // A megabyte at a time, so the memory limit is reached in a few dozen steps, long before the time limit even on
        // a loaded machine (a kilobyte at a time took over 2 s of a shared CPU and met the time limit first).
        var (requests, rejections) = Run("function batch(records) { var a = []; for (;;) { a.push('x'.repeat(1048576) + a.length); } }");

        AssertEveryRecordRejectedAtScript(requests, rejections, "more memory than its limit of 64 MiB");
        Assert.Single(rejections.Select(r => r.Message).Distinct());
        Assert.DoesNotContain("allocated", rejections[0].Message);
    }

    [Fact]
    public void Run_GuardedBuiltIns_StillWorkWithinTheLimits()
    {
        var code = "function batch(records) { return { r: 'ab'.repeat(3), s: '5'.padStart(3, '0'), e: 'x'.padEnd(3), j: records.map(r => r.id).join('-'), d: [1, 2].join() }; }";

        var (requests, rejections) = Run(code);

        Assert.Empty(rejections);
        Assert.Equal("""{"r":"ababab","s":"005","e":"x  ","j":"1-2","d":"1,2"}""", BodyText(requests[0]));
    }

    [Fact]
    public void Run_ResultIsWrittenAsJsonStringifyWritesIt()
    {
        // toJSON (Dates included), undefined and functions left out of objects and null in arrays,
        // non-finite numbers as null, boxed primitives as their value, number formatting, escapes.
        var code = """
            function batch(records) {
              var value = {
                when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
                custom: { toJSON: function (key) { return 'custom:' + key; } },
                skipped: undefined,
                fn: function () {},
                list: [1, undefined, function () {}, NaN, Infinity, -0, 1e21, 0.1, 123456789012],
                boxed: [new Number(5), new String('s'), new Boolean(false)],
                text: 'quote " backslash \\ newline \n tab \t café 🚀',
                nested: { empty: {}, none: [], nil: null, yes: true }
              };
              return { value: value, expected: JSON.stringify(value) };
            }
            """;

        var (requests, rejections) = Run(code);

        Assert.Empty(rejections);
        using var body = JsonDocument.Parse(requests[0].Body);
        var written = body.RootElement.GetProperty("value").GetRawText();
        var expected = body.RootElement.GetProperty("expected").GetString();
        Assert.Equal(Normalize(expected!), Normalize(written));
    }

    [Theory]
    [InlineData("async function batch(records) { return { n: records.length }; }")]
    [InlineData("var batch = async (records) => ({ n: records.length });")]
    [InlineData("function* batch(records) { yield { n: records.length }; }")]
    public void Compile_AsyncOrGeneratorBatch_IsAProblemAtCode_NotABodyOfBraces(string code)
    {
        var problem = Assert.Single(Problems(JsonSerializer.Serialize(new
        {
            url = "https://api.buildkite.com/v2/bulk",
            batching = new { enabled = true, batchSize = 2, algorithm = "code", code },
        })));

        Assert.Equal("batching.code", problem.Key);
        Assert.Contains("an async function or a generator", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("function batch(records) { return Promise.resolve({ n: records.length }); }", "returned a promise")]
    [InlineData("function batch(records) { return function () { return 1; }; }", "returned a function")]
    public void Run_PromiseOrFunctionResult_RejectedAtScript(string code, string expected)
    {
        var (requests, rejections) = Run(code);

        AssertEveryRecordRejectedAtScript(requests, rejections, expected);
    }

    [Fact]
    public void Run_RecordsNested64Deep_ReachTheScript()
    {
        var record = string.Concat(Enumerable.Repeat("{\"a\":", 63)) + "1" + new string('}', 63);
        var destination = Script("function batch(records) { return { count: records.length }; }");

        var (requests, rejections, _) = PlanAll(destination, "{\"id\":" + record + "}\n");

        Assert.Empty(rejections);
        Assert.Equal("""{"count":1}""", BodyText(Assert.Single(requests)));
    }

    /// <summary>The same JSON, compared by value: escapes may differ in form (\u00e9 or é).</summary>
    private static string Normalize(string json)
    {
        using var document = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(document.RootElement);
    }
}
