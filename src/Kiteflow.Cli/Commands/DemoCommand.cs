using System.CommandLine;
using System.Text.Json;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Sandbox;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow demo</c>: the main job end to end with no account and no network. Starts the sandbox
/// in-process, sends the bundled example (a build per record, responses recorded) through it, and
/// shows the summary, a few of the builds it made and where every output went.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var outputDirectory = new Option<DirectoryInfo?>("--output") { Description = "Where to write the ledger, responses, rejected records and summary (default: a new temporary folder)." };
        var command = new Command("demo", "Send the bundled example through a local Buildkite sandbox and show what happened. Needs no account and no network.")
        {
            outputDirectory,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            using var signals = StopSignals.Register(error, SendCommand.StopGracePeriod);
            using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.Aborting);
            return await RunAsync(parseResult.GetValue(outputDirectory), parseResult.InvocationConfiguration.Output, error, signals.Stopping, abort.Token).ConfigureAwait(false);
        });
        return command;
    }

    public static Task<int> RunAsync(DirectoryInfo? outputDirectory, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(outputDirectory, output, error, CancellationToken.None, cancellationToken);

    /// <summary>Runs the demo; <paramref name="stopping"/> stops it gracefully, <paramref name="cancellationToken"/> at once.</summary>
    public static async Task<int> RunAsync(DirectoryInfo? outputDirectory, TextWriter output, TextWriter error, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var examples = Path.Combine(AppContext.BaseDirectory, "examples", "trigger-builds");
        var directory = outputDirectory?.FullName ?? Path.Combine(Path.GetTempPath(), $"kiteflow-demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        if (File.Exists(directory))
        {
            error.WriteLine($"kiteflow: --output: '{CommonOptions.Shown(directory)}' is a file; give a folder (it is created when missing).");
            return ExitCodes.Error;
        }

        try
        {
            PrivateFiles.CreateDirectory(directory);  // it will hold the ledger and API responses: 0700
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"kiteflow: --output: the folder '{CommonOptions.Shown(directory)}' cannot be created: {CommonOptions.Shown(e.Message)}");
            return ExitCodes.Error;
        }

        foreach (var name in new[] { "ledger.db", "responses.jsonl", "rejected.jsonl", "summary.json" })
        {
            if (PathChecks.WritableFile("--output", Path.Combine(directory, name), name) is { } problem)
            {
                error.WriteLine($"kiteflow: {problem}");
                return ExitCodes.Error;
            }
        }

        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions(), cancellationToken).ConfigureAwait(false);
        output.WriteLine($"Started the Buildkite sandbox at {sandbox.BaseAddress} (organization acme; pipelines web, api, docs).");
        output.WriteLine($"Sending {Path.Combine(examples, "builds.jsonl")} through {Path.Combine(examples, "destination.json")}: one build per record.");
        output.WriteLine();

        var request = new SendRequest(
            new FileInfo(Path.Combine(examples, "destination.json")),
            Path.Combine(examples, "builds.jsonl"),
            Format: null,
            ApiBase: sandbox.BaseAddress,
            Credential: null,
            TokenEnv: "KITEFLOW_DEMO_TOKEN",
            Ledger: Path.Combine(directory, "ledger.db"),
            Responses: Path.Combine(directory, "responses.jsonl"),
            Rejected: Path.Combine(directory, "rejected.jsonl"),
            SummaryJson: Path.Combine(directory, "summary.json"));

        // The sandbox's own token, handed over in-process: it exists only while the sandbox runs.
        var exitCode = await SendCommand.RunAsync(request, output, error, name => name == "KITEFLOW_DEMO_TOKEN" ? SandboxServer.DefaultToken : Environment.GetEnvironmentVariable(name), stopping, cancellationToken).ConfigureAwait(false);

        var webUrls = BuildWebUrls(request.Responses!).Take(3).ToList();
        if (webUrls.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("A few of the builds it triggered (as Buildkite would link them):");
            foreach (var url in webUrls)
            {
                output.WriteLine($"  {url}");
            }
        }

        output.WriteLine();
        output.WriteLine($"Every API call is in {request.Responses}, every record not delivered in {request.Rejected}, the summary in {request.SummaryJson}.");
        // As the user can type it: the way they ran kiteflow (./scripts/kiteflow from a checkout), paths from here.
        var kiteflow = Environment.GetEnvironmentVariable("KITEFLOW_INVOKED_AS") is { Length: > 0 } invokedAs ? invokedAs : "kiteflow";
        output.WriteLine($"Run `{kiteflow} preview -d {Shorter(request.Destination.FullName)} -i {Shorter(request.Input)}` to see the requests without sending them.");
        return exitCode;
    }

    private static IEnumerable<string> BuildWebUrls(string responsesPath)
    {
        if (!File.Exists(responsesPath))
        {
            yield break;
        }

        foreach (var line in File.ReadLines(responsesPath))
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object
                && response.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.Object
                && body.TryGetProperty("web_url", out var webUrl) && webUrl.GetString() is { } url)
            {
                yield return url;
            }
        }
    }

    private static string Shorter(string path)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.GetFullPath(path));
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }
}
