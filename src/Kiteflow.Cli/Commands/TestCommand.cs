using System.CommandLine;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Delivery.Sending;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow test</c>: the endpoint test. Plans the input through the destination, takes one request (the first, or
/// the one carrying <c>--record N</c>), optionally with the body of <c>--body FILE</c>, sends it once and shows the
/// request (token masked) and the real answer. Nothing goes to a ledger. Before a request that leaves the machine it
/// shows the caution and asks, unless <c>--yes</c>; with no terminal to ask on it refuses.
/// </summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var destination = CommonOptions.Destination();
        var input = CommonOptions.Input();
        var format = CommonOptions.Format();
        var apiBase = CommonOptions.ApiBase();
        var record = CommonOptions.OptionalWholeNumber("--record", "Send the request carrying the record at this position (0-based, as preview numbers them); default: the first request.", 0, int.MaxValue);
        var body = new Option<FileInfo?>("--body") { Description = "Send this file's text as the body instead of the planned one (JSON for the json format)." };
        var credential = new Option<string?>("--credential") { Description = "A stored credential (kiteflow credentials add) to send with; it brings its API base." };
        var tokenEnv = new Option<string?>("--token-env") { Description = $"The environment variable holding the token (default {SendCommand.DefaultTokenVariable}). Tokens are never taken from the command line." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Send without asking, even where the request leaves the machine (not the sandbox): it really writes." };
        var json = new Option<bool>("--json") { Description = "Write the request and the answer as one JSON document." };
        var command = new Command("test", "Send one request of a destination — the first, or a chosen record's, optionally with an edited body — and show the real answer. Asks before a request that leaves the machine.")
        {
            destination, input, format, apiBase, record, body, credential, tokenEnv, yes, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var request = new TestRequest(
                parseResult.GetRequiredValue(destination),
                parseResult.GetRequiredValue(input),
                parseResult.GetValue(format),
                parseResult.GetValue(apiBase),
                parseResult.GetValue(record),
                parseResult.GetValue(body),
                parseResult.GetValue(credential),
                parseResult.GetValue(tokenEnv),
                parseResult.GetValue(yes),
                parseResult.GetValue(json));
            var terminal = Console.IsInputRedirected ? null : Console.In;
            return await RunAsync(request, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, terminal, Environment.GetEnvironmentVariable, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs one endpoint test.</summary>
    /// <param name="request">The arguments.</param>
    /// <param name="output">Where the request and the answer go.</param>
    /// <param name="error">Where problems, the caution and the question go.</param>
    /// <param name="terminal">Where the answer to the question is read; null when there is no terminal to ask on.</param>
    /// <param name="environment">Reads environment variables.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    /// <returns>0 for a 2xx answer, 3 when the API refused the request, 1 when no answer came or a file or the credential store failed, 2 for a wrong command line.</returns>
    public static async Task<int> RunAsync(TestRequest request, TextWriter output, TextWriter error, TextReader? terminal, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        if (Check(request, error) is { } failure)
        {
            return failure;
        }

        var credential = SendCommand.ResolveCredential(request.Credential, request.TokenEnv, request.ApiBase, environment, error, out var credentialFailure);
        if (credential is null)
        {
            return credentialFailure;
        }

        var destination = DestinationLoader.Load(request.Destination, new PlannerOptions { ApiBase = credential.ApiBase, Parallelism = 1 }, error);
        if (destination is null)
        {
            return ExitCodes.InvalidSettings;
        }

        string? editedBody = null;
        if (request.Body is { } bodyFile)
        {
            try
            {
                editedBody = await File.ReadAllTextAsync(bodyFile.FullName, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"kiteflow: --body: '{CommonOptions.Shown(bodyFile.FullName)}' cannot be read: {CommonOptions.Shown(e.Message)}");
                return ExitCodes.Error;
            }
        }

        var reader = CommonOptions.OpenInput(request.Input, request.Format, error);
        if (reader is null)
        {
            return ExitCodes.Error;
        }

        TestCallRequest prepared;
        try
        {
            prepared = TestCall.Prepare(destination, reader, request.Record, editedBody);
        }
        catch (InputException e)
        {
            error.WriteLine($"kiteflow: {e.Message}");
            return ExitCodes.Error;
        }

        if (prepared.RecordProblem is { } recordProblem)
        {
            error.WriteLine($"kiteflow: {(request.Record is null ? "--input" : "--record")}: {recordProblem}");
            return ExitCodes.InvalidSettings;
        }

        if (prepared.BodyProblem is { } bodyProblem)
        {
            error.WriteLine($"kiteflow: --body: {bodyProblem}");
            return ExitCodes.InvalidSettings;
        }

        if (!request.Json)
        {
            WriteRequest(prepared, output);
        }

        if (!credential.IsLoopback && !request.Yes)
        {
            var caution = TestCall.Caution(credential.ApiBase, credential.Name);
            if (terminal is null)
            {
                error.WriteLine($"kiteflow test: not sent: {caution} There is no terminal to ask on (standard input is redirected): add --yes to send it.");
                return ExitCodes.InvalidSettings;
            }

            if (request.Json)
            {
                // The JSON goes to stdout after the answer; what is asked about is shown here first.
                WriteRequest(prepared, error);
            }

            error.WriteLine($"kiteflow: {caution}");
            error.Write("Send it? [y/N] ");
            error.Flush();
            var answer = (await terminal.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.Trim();
            if (!string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
            {
                error.WriteLine("kiteflow: not sent.");
                return ExitCodes.Error;
            }
        }

        var result = await TestCall.SendAsync(prepared, credential, new TestCallOptions(), cancellationToken).ConfigureAwait(false);
        if (request.Json)
        {
            output.WriteLine(Encoding.UTF8.GetString(result.ToUtf8Json(indented: true)));
        }
        else
        {
            WriteAnswer(result, output);
        }

        return result switch
        {
            { IsSuccess: true } => ExitCodes.Success,
            { Outcome: TestCallOutcome.Answered } => ExitCodes.SomeRecordsNotDelivered,
            _ => ExitCodes.Error,
        };
    }

    /// <summary>The command line's own problems (exit 2), then files that cannot be read (exit 1), each on one line.</summary>
    private static int? Check(TestRequest request, TextWriter error)
    {
        var problems = new List<string>();
        var input = CommonOptions.SendingOptionProblems(request.Credential, request.TokenEnv, request.Input, request.Format, problems);

        if (problems.Count > 0)
        {
            problems.ForEach(p => error.WriteLine($"kiteflow: {p}"));
            return ExitCodes.InvalidSettings;
        }

        // Every file is checked before any is read, so that one run names every file that cannot be read.
        var unreadable = new[]
        {
            PathChecks.ReadableFile("--destination", request.Destination.FullName, "the destination file (JSON settings)"),
            input?.Message,
            request.Body is { } body ? PathChecks.ReadableFile("--body", body.FullName, "the file holding the body to send") : null,
        }.OfType<string>().ToList();
        unreadable.ForEach(p => error.WriteLine($"kiteflow: {p}"));
        return unreadable.Count > 0 ? ExitCodes.Error : null;
    }

    private static void WriteRequest(TestCallRequest prepared, TextWriter output)
    {
        var request = prepared.Request!;
        var records = request.Records.Length == 1 ? $"record {request.Records[0]}" : $"records {request.Records[0]}–{request.Records[^1]} ({request.Records.Length})";
        output.WriteLine($"Request · {records}{(prepared.BodyEdited ? " · body edited" : string.Empty)}");
        output.WriteLine($"  {request.Method} {request.Url}");
        foreach (var (name, value) in request.DisplayHeaders())
        {
            output.WriteLine($"  {name}: {value}");
        }

        if (request.Body is not null)
        {
            output.WriteLine();
            output.WriteLine(PreviewCommand.Indent(PreviewCommand.BodyText(request)));
        }

        output.WriteLine();
    }

    private static void WriteAnswer(TestCallResult result, TextWriter output)
    {
        switch (result.Outcome)
        {
            case TestCallOutcome.NotSent:
                output.WriteLine($"Not sent: {result.Message}");
                return;
            case TestCallOutcome.NoAnswer:
                output.WriteLine($"No answer: {result.Message}");
                return;
        }

        var waited = result.Waited >= TimeSpan.FromMilliseconds(100) ? $" (after {result.Waited.TotalSeconds:N1} s waiting for the rate limits)" : string.Empty;
        output.WriteLine($"Response {result.Status} · {result.Duration.TotalMilliseconds:N0} ms{waited}");
        if (!result.IsSuccess && result.Message is { } message)
        {
            output.WriteLine($"  {message}");
        }

        foreach (var (name, value) in result.ResponseHeaders)
        {
            output.WriteLine($"  {name}: {value}");
        }

        if (result.ResponseBody is { } body)
        {
            output.WriteLine();
            output.WriteLine(PreviewCommand.Indent(result.ResponseBodyIsJson ? Indented(body) : body));
        }
    }

    private static string Indented(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 128 });
            return JsonText.Indented(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Nested deeper than the writer goes: shown as it came.
            return json;
        }
    }
}

/// <summary>The arguments of one <c>kiteflow test</c>.</summary>
internal sealed record TestRequest(FileInfo Destination, string Input, string? Format, Uri? ApiBase, int? Record, FileInfo? Body, string? Credential, string? TokenEnv, bool Yes, bool Json);
