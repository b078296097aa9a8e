using BenchmarkDotNet.Running;
using Kiteflow.Benchmarks;

// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- planner   (BenchmarkDotNet)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- preview   (end-to-end: preview of a 1 GB file)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- delivery [BATCHED SINGLE RUNS]  (end-to-end: send against nginx vs two baselines and syslog-ng)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- pacing [org|user|user-small|generous]  (end-to-end: send against the sandbox with its limits scaled down, or generous)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- ingest [RECORDS] [IN-FLIGHT] [STORE...]  (server: POST /ingest vs appending to the store; STORE: sqlite, postgres, postgres-unflushed, postgres://…)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- store-append [RECORDS] [STORE...]  (appends straight to the store by batch size; PostgreSQL's COPY vs INSERT … unnest)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- ui [RECORDS] [KEYSTROKES]  (the web UI in Chromium: first loads, script bytes, the sample panel per keystroke)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- preview-api [RECORDS] [PREVIEWS]  (server: POST /destinations/preview vs kiteflow preview in process)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- server-lag [RECORDS] [PER-SECOND] [RUNS]  (kiteflow serve: ingest acknowledged → request at the sandbox)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- server-fleet [COUNTS] [SECONDS] [PER-SECOND]  (kiteflow serve: memory and threads of 1 and 50 active destinations)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- server-pacing [org|user]  (kiteflow serve: destinations sharing an organization's or a user's budget)
// dotnet run -c Release --project bench/Kiteflow.Benchmarks -- cluster [WORKERS…] [failover]  (kiteflow serve cluster on PostgreSQL: 1, 2, 4 workers against scaled-down limits; failover after kill -9)
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
    case "ui":
        return await UiHarness.RunAsync(args[1..]);
    case "preview-api":
        return await PreviewApiHarness.RunAsync(args[1..]);
    case "server-lag":
        return await ServerLagHarness.RunAsync(args[1..]);
    case "server-fleet":
        return await ServerFleetHarness.RunAsync(args[1..]);
    case "server-pacing":
        return await ServerPacingHarness.RunAsync(args[1..]);
    case "cluster":
        return await ClusterHarness.RunAsync(args[1..]);
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
        Console.Error.WriteLine("usage: Kiteflow.Benchmarks planner|preview|pacing|delivery|delivery-memory|ingest|server-lag|server-fleet|server-pacing [options]");
        return 2;
}

return 0;
