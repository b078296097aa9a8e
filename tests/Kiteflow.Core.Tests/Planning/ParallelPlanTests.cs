using System.Text;
using System.Text.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using static Kiteflow.Core.Tests.Planning.PlanTestHelpers;

namespace Kiteflow.Core.Tests.Planning;

/// <summary>
/// Records are parsed, templated, checked and shaped on several threads ahead of batching: the plan
/// must come out exactly as when one thread does everything, in dataset order, with every record
/// accounted for once.
/// </summary>
public sealed class ParallelPlanTests
{
    private const string Single = $$"""{"url":"{{BuildsUrl}}","excludeAttributes":["org","pipeline"]}""";

    private const string Batched = $$$"""{"url":"{{{BuildsUrl}}}","excludeAttributes":["org","pipeline"],"batching":{"enabled":true,"batchSize":7,"maxBatchBytes":4000,"algorithm":"property","propertyName":"builds"}}""";

    private const string Templated = $$$"""{"url":"{{{BuildsUrl}}}","bodyTemplate":{"commit":"{commit}","branch":"{branch}","message":"{pipeline}: {message=no message}","env":{"N":"{pipeline}"} } }""";

    private const string TemplatedBatched = $$$"""{"url":"{{{BuildsUrl}}}","bodyTemplate":{"commit":"{commit}","branch":"{branch=main}","message":"{message=none}"},"batching":{"enabled":true,"batchSize":5,"maxBatchBytes":4000}}""";

    [Theory]
    [InlineData(Single)]
    [InlineData(Batched)]
    [InlineData(Templated)]
    [InlineData(TemplatedBatched)]
    public void Plan_OnSeveralThreads_IsItemForItemThePlanOfOneThread(string settings)
    {
        var input = MixedInput(3_000, out var expectedRejections);

        var one = Describe(Compile(settings, new PlannerOptions { DeliveryIdPrefix = "kfx", KeepRecordText = true, Parallelism = 1 }), input);
        var four = Describe(Compile(settings, new PlannerOptions { DeliveryIdPrefix = "kfx", KeepRecordText = true, Parallelism = 4 }), input);

        Assert.Equal(one.Items.Count, four.Items.Count);
        for (var i = 0; i < one.Items.Count; i++)
        {
            Assert.Equal(one.Items[i], four.Items[i]);
        }

        Assert.Equal(one.Warnings, four.Warnings);
        if (settings == Single)
        {
            Assert.Contains(four.Warnings, w => w.Contains("brnach", StringComparison.Ordinal));  // batched bodies are not checked
        }

        Assert.Equal(Enumerable.Range(0, 3_000).Select(i => (long)i), four.Positions.Order());
        Assert.True(four.Rejected >= expectedRejections, $"{four.Rejected} rejected, expected at least {expectedRejections}");
    }

    [Fact]
    public void PlanningThreads_OptionsOverrideTheSetting_WhichOverridesOnePerProcessor()
    {
        var withSetting = Batched.Replace("\"batching\":", "\"delivery\":{\"planningThreads\":3},\"batching\":", StringComparison.Ordinal);

        Assert.Equal(Environment.ProcessorCount, Compile(Batched).PlanningThreads);
        Assert.Equal(3, Compile(withSetting).PlanningThreads);
        Assert.Equal(2, Compile(withSetting, new PlannerOptions { Parallelism = 2 }).PlanningThreads);
        Assert.Equal(1, Compile(withSetting, new PlannerOptions { Parallelism = 1 }).PlanningThreads);
    }

    [Fact]
    public void Plan_WithThePlanningThreadsSetting_IsThePlanOfOneThread()
    {
        var input = MixedInput(1_000, out _);
        var withSetting = Batched.Replace("\"batching\":", "\"delivery\":{\"planningThreads\":5},\"batching\":", StringComparison.Ordinal);

        var one = Describe(Compile(Batched, new PlannerOptions { DeliveryIdPrefix = "kfx", Parallelism = 1 }), input);
        var five = Describe(Compile(withSetting, new PlannerOptions { DeliveryIdPrefix = "kfx" }), input);

        Assert.Equal(one.Items, five.Items);
        Assert.Equal(one.Warnings, five.Warnings);
    }

    [Fact]
    public void Plan_Batched_EveryRecordCarriesItsBatchsDeliveryId()
    {
        var destination = Compile(Batched, new PlannerOptions { DeliveryIdPrefix = "kfx", Parallelism = 4 });
        var input = MixedInput(2_000, out _);

        var requests = Plan(destination, input).Select(i => i.Request).OfType<PlannedRequest>().ToList();

        Assert.True(requests.Count > 100);
        foreach (var request in requests)
        {
            Assert.Equal($"kfx-{request.Records[0]}", request.DeliveryId);
            using var body = JsonDocument.Parse(request.Body);
            var builds = body.RootElement.GetProperty("builds");
            Assert.Equal(request.Records.Length, builds.GetArrayLength());
            Assert.All(builds.EnumerateArray(), b => Assert.Equal(request.DeliveryId, b.GetProperty("meta_data").GetProperty("kiteflow_delivery_id").GetString()));
        }
    }

    [Fact]
    public void Plan_InputFailingMidway_PlansEveryRecordReadBeforeTheFailure_ThenThrows()
    {
        var destination = Compile(Single, new PlannerOptions { Parallelism = 4 });
        var lines = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 5_000).Select(i => $$"""{"org":"acme","pipeline":"web","commit":"c{{i}}","branch":"main"}""" + "\n")));
        var failAt = lines.Length / 2;
        var recordsBefore = lines.AsSpan(0, failAt).Count((byte)'\n');
        var reader = RecordReader.Create(new FailingStream(lines, failAt), InputFormat.JsonLines);
        using var plan = destination.Plan(reader);
        var planned = new List<long>();

        var failure = Assert.Throws<IOException>(() =>
        {
            foreach (var item in plan)
            {
                planned.AddRange(item.Request!.Records);
            }
        });

        Assert.Equal("the disk went away", failure.Message);
        Assert.Equal(Enumerable.Range(0, recordsBefore).Select(i => (long)i), planned);
    }

    [Fact]
    public void Plan_StoppedEarly_HasReadOnlyALittleAhead()
    {
        var destination = Compile(Single, new PlannerOptions { Parallelism = 4 });
        var input = MixedInput(20_000, out _);
        using var plan = Plan(destination, input, out var reader);

        var first = plan.Take(10).ToList();

        Assert.Equal(10, first.Count);
        Assert.True(reader.Fraction < 0.5, $"read {reader.Fraction:P0} of the input for ten items");
    }

    /// <summary>Good records across several pipelines, and every kind of bad one, in a fixed pattern.</summary>
    private static byte[] MixedInput(int count, out int rejections)
    {
        var output = new MemoryStream();
        rejections = 0;
        for (var i = 0; i < count; i++)
        {
            var line = (i % 23) switch
            {
                3 => """{"org":"acme","commit":"abc","branch":"main"}""",                          // no pipeline: template
                5 when i % 2 == 1 => """{"org":"acme","pipeline":"web","commit":"abc"}""",          // no branch: validate (single)
                7 => """{"org":"acme","pipeline":"web","commit": nope}""",                           // malformed
                11 => "[1,2,3]",                                                                     // not an object
                13 => """{"org":"acme","pipeline":"web","commit":"abc","branch":"main","brnach":"x"}""",  // unknown field
                17 => $$"""{"org":"acme","pipeline":"web","commit":"abc","branch":"main","message":"{{new string('m', 5_000)}}"}""",  // over maxBatchBytes
                19 => $$$"""{"org":"acme","pipeline":"p{{{i % 3}}}","commit":"abc","branch":"main","meta_data":{"kept":"yes"}}""",
                _ => $$"""{"org":"acme","pipeline":"p{{i % 4}}","commit":"c{{i}}","branch":"main","message":"Record {{i}} ✓"}""",
            };
            rejections += (i % 23) is 3 or 7 or 11 ? 1 : 0;
            output.Write(Encoding.UTF8.GetBytes(line));
            if (i % 23 == 21)
            {
                output.Write([(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']);  // invalid UTF-8
                rejections++;
            }

            output.WriteByte((byte)'\n');
        }

        return output.ToArray();
    }

    private static Plan Plan(Destination destination, byte[] input, out RecordReader reader)
    {
        reader = RecordReader.Create(new MemoryStream(input), InputFormat.JsonLines);
        return destination.Plan(reader);
    }

    private static List<PlanItem> Plan(Destination destination, byte[] input)
    {
        using var plan = Plan(destination, input, out _);
        return [.. plan];
    }

    /// <summary>Every item of the plan as text (a request's every part, a rejection's every part), and the warnings.</summary>
    private static (List<string> Items, IReadOnlyList<string> Warnings, List<long> Positions, int Rejected) Describe(Destination destination, byte[] input)
    {
        using var plan = Plan(destination, input, out _);
        var items = new List<string>();
        var positions = new List<long>();
        var rejected = 0;
        foreach (var item in plan)
        {
            if (item.Request is { } r)
            {
                positions.AddRange(r.Records);
                items.Add(string.Join(
                    " | ",
                    r.Index,
                    r.Method,
                    r.Url,
                    string.Join(",", r.DisplayHeaders()),
                    Encoding.UTF8.GetString(r.Body ?? []),
                    string.Join(",", r.Records),
                    r.DeliveryId,
                    string.Join("\n", r.RecordTexts ?? []),
                    string.Join(",", r.Lines ?? [])));
            }
            else
            {
                var x = item.Rejection!;
                positions.Add(x.Record);
                rejected++;
                items.Add($"rejected {x.Record} line {x.Line} {x.Stage}: {x.Message} | {x.RecordJson}");
            }
        }

        return (items, plan.Warnings, positions, rejected);
    }

    /// <summary>A stream that serves its bytes and then fails, as a disk or pipe can.</summary>
    private sealed class FailingStream(byte[] bytes, int failAt) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAt)
            {
                throw new IOException("the disk went away");
            }

            var n = Math.Min(count, failAt - _position);
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
