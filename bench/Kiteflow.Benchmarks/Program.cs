using BenchmarkDotNet.Running;
using Kiteflow.Benchmarks;

// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- planner   (BenchmarkDotNet)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- preview   (end-to-end: preview of a 1 GB file)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- delivery [BATCHED SINGLE RUNS]  (end-to-end: send against nginx vs two baselines and syslog-ng)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- pacing [org|user|user-small|generous]  (end-to-end: send against the sandbox with its limits scaled down, or generous)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- ingest [RECORDS] [IN-FLIGHT] [STORE...]  (server: POST /ingest vs appending to the store; STORE: sqlite, postgres, postgres-unflushed, postgres://…)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- store-append [RECORDS] [STORE...]  (appends straight to the store by batch size; PostgreSQL's COPY vs INSERT … unnest)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- preview-api [RECORDS] [PREVIEWS]  (server: POST /destinations/preview vs kiteflow preview in process)
var which = args.Length > 0 ? args[0] : "planner";
switch (which)
{
    case "planner":
        BenchmarkRunner.Run<PlannerBenchmarks>(args: args[1..]);
        break;
    case "ingest":
        return await IngestHarness.RunAsync(args[1..]);
    case "store-append":
        return await StoreAppendHarness.RunAsync(args[1..]);
    case "preview-api":
        return await PreviewApiHarness.RunAsync(args[1..]);
    case "pacing":
        return await PacingHarness.RunAsync(args[1..]);
    case "baseline-post":
        return DeliveryHarness.BaselinePost(args[1..]);
    case "baseline-parse":
        // baseline-parse INPUT API-BASE BATCH-SIZE CONCURRENCY TOKEN: the delivery benchmark's parsing baseline
        return ParsingBaseline.Run(args[1..]);
    case "plan-bodies":
        // plan-bodies DESTINATION INPUT API-BASE: writes the bodies the baseline posts, for profiling by hand
        Console.WriteLine(DeliveryHarness.PlanBodies(args[1], args[2], new Uri(args[3])).Path);
        break;
    case "plan-only":
        // plan-only DESTINATION INPUT [PARALLELISM]: plans every record and sends nothing, for profiling by hand
        return DeliveryHarness.PlanOnly(args[1], args[2], args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount);
    case "delivery":
        return DeliveryHarness.Run(args[1..]);
    case "delivery-memory":
        return DeliveryHarness.RunMemory(args[1..]);
    case "preview":
        return PreviewHarness.Run(args[1..]);
    default:
        Console.Error.WriteLine("usage: Kiteflow.Benchmarks planner|preview [options]");
        return 2;
}

return 0;
