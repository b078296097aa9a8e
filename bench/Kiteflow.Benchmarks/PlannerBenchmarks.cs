using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Kiteflow.Core.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;

namespace Kiteflow.Benchmarks;

/// <summary>
/// Planning 100,000 create-build records against a baseline that only parses and rewrites the same
/// records with System.Text.Json on one thread. The planner is measured on one thread too, for a fair
/// ratio, and once more with its default parallelism (every processor). Each operation is one record
/// (OperationsPerInvoke), so the Allocated column is bytes per record.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class PlannerBenchmarks
{
    private const int Records = 100_000;
    private byte[] _input = [];
    private Destination _single = null!;
    private Destination _batched = null!;
    private Destination _batchedParallel = null!;
    private Destination _templated = null!;

    [GlobalSetup]
    public void Setup()
    {
        _input = RecordGenerator.JsonLines(Records);
        const string Batched = """{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],"batching":{"enabled":true,"batchSize":100,"algorithm":"property","propertyName":"builds"}}""";
        _single = Compile("""{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"]}""", parallelism: 1);
        _batched = Compile(Batched, parallelism: 1);
        _batchedParallel = Compile(Batched, Environment.ProcessorCount);

        // The same build body made by a bodyTemplate instead of exclusions: attributes copied whole, one string mixing text and macros.
        _templated = Compile("""{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","bodyTemplate":{"commit":"{commit}","branch":"{branch}","message":"{message} ({pipeline})","author":"{author}","env":"{env}","meta_data":"{meta_data}"}}""", parallelism: 1);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Records, Description = "baseline: STJ parse + rewrite")]
    public long ParseAndRewrite()
    {
        var total = 0L;
        var output = new ArrayBufferWriter<byte>(1024);
        var span = _input.AsSpan();
        while (span.Length > 0)
        {
            var newline = span.IndexOf((byte)'\n');
            var line = newline < 0 ? span : span[..newline];
            span = newline < 0 ? [] : span[(newline + 1)..];
            var reader = new Utf8JsonReader(line);
            using var document = JsonDocument.ParseValue(ref reader);
            output.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(output, MinimalJsonEncoder.CompactWriterOptions))
            {
                document.RootElement.WriteTo(writer);
            }

            total += output.WrittenCount;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "planner, 1 thread: one request per record")]
    public long PlanOnePerRecord() => Plan(_single);

    [Benchmark(OperationsPerInvoke = Records, Description = "planner, 1 thread: one request per record, body from a bodyTemplate")]
    public long PlanOnePerRecordFromTemplate() => Plan(_templated);

    [Benchmark(OperationsPerInvoke = Records, Description = "planner, 1 thread: property batching of 100")]
    public long PlanPropertyBatches() => Plan(_batched);

    [Benchmark(OperationsPerInvoke = Records, Description = "planner, every processor: property batching of 100")]
    public long PlanPropertyBatchesInParallel() => Plan(_batchedParallel);

    private long Plan(Destination destination)
    {
        var total = 0L;
        using var plan = destination.Plan(RecordReader.Create(new MemoryStream(_input, writable: false), InputFormat.JsonLines));
        foreach (var item in plan)
        {
            total += item.Request?.Body?.Length ?? 0;
        }

        return total;
    }

    private static Destination Compile(string json, int parallelism)
    {
        var (settings, problems) = DestinationSettingsReader.Read(json);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        return Destination.Compile(settings, new PlannerOptions { Parallelism = parallelism }).Destination ?? throw new InvalidOperationException("invalid destination");
    }
}
