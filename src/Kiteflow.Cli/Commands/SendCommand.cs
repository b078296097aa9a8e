using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Delivery;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Storage.Sqlite.Ledger;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow send</c>: delivers every record of an input through a destination to Buildkite, paced,
/// retried safely and recorded in the ledger, so running the same command again resumes.
/// </summary>
internal static class SendCommand
{
    public const string DefaultTokenVariable = "BUILDKITE_API_TOKEN";

    public static Command Create()
    {
        var destination = CommonOptions.Destination();
        var input = CommonOptions.Input();
        var format = CommonOptions.Format();
        var apiBase = CommonOptions.ApiBase();
        var credential = new Option<string?>("--credential") { Description = "A stored credential (kiteflow credentials add) to send with; it brings its API base." };
        var tokenEnv = new Option<string?>("--token-env") { Description = $"The environment variable holding the token (default {DefaultTokenVariable}). Tokens are never taken from the command line." };
        var ledger = new Option<string?>("--ledger") { Description = "The ledger file (SQLite) that records every batch's state; default ledger.db in Kiteflow's data folder." };
        var responses = new Option<string?>("--responses") { Description = "Append one JSON line per API call (request, response, records, attempt) to this file." };
        var rejected = new Option<string?>("--rejected") { Description = "Write one JSON line per record not delivered (the record and the error with its stage) to this file." };
        var summary = new Option<string?>("--summary-json") { Description = "Write the run's summary as JSON to this file (on every exit: done, stopped or failed)." };
        var restart = new Option<bool>("--restart") { Description = "Start this command over on purpose: send again every record an earlier run did not deliver (rejected, possibly delivered). Delivered records stay delivered unless --resend-delivered." };
        var resendDelivered = new Option<bool>("--resend-delivered") { Description = "With --restart: send every record again, those an earlier run delivered included (a create-build triggers their builds a second time)." };
        var threads = CommonOptions.Threads();
        var command = new Command("send", "Send every record of an input through a destination to Buildkite, at Buildkite's pace, resuming where an earlier run of the same command stopped.")
        {
            destination, input, format, apiBase, credential, tokenEnv, ledger, responses, rejected, summary, restart, resendDelivered, threads,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            if (parseResult.GetValue(resendDelivered) && !parseResult.GetValue(restart))
            {
                error.WriteLine("kiteflow: --resend-delivered goes with --restart: add --restart to send every record again, delivered ones included.");
                return ExitCodes.InvalidSettings;
            }

            var request = new SendRequest(
                parseResult.GetRequiredValue(destination),
                parseResult.GetRequiredValue(input),
                parseResult.GetValue(format),
                parseResult.GetValue(apiBase),
                parseResult.GetValue(credential),
                parseResult.GetValue(tokenEnv),
                parseResult.GetValue(ledger),
                parseResult.GetValue(responses),
                parseResult.GetValue(rejected),
                parseResult.GetValue(summary),
                parseResult.GetValue(restart) ? parseResult.GetValue(resendDelivered) ? DeliveryRestart.Everything : DeliveryRestart.NotDelivered : DeliveryRestart.None,
                parseResult.GetValue(threads));
            if (SendArguments.Check(request, error) is { } failure)
            {
                return failure;
            }

            using var signals = StopSignals.Register(error, StopGracePeriod);
            using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.Aborting);
            return await RunAsync(request, parseResult.InvocationConfiguration.Output, error, Environment.GetEnvironmentVariable, signals.Stopping, abort.Token).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>How long requests in flight get to be answered after a first Ctrl+C or SIGTERM.</summary>
    public static TimeSpan StopGracePeriod { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="request"/>; <paramref name="cancellationToken"/> aborts (there is no graceful stop).</summary>
    public static Task<int> RunAsync(SendRequest request, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken) =>
        RunAsync(request, output, error, environment, CancellationToken.None, cancellationToken);

    /// <summary>
    /// Runs <paramref name="request"/>, and on every way out — done, stopped, failed — writes the summary line to
    /// <paramref name="output"/> and the summary JSON when asked for.
    /// </summary>
    /// <param name="request">The arguments.</param>
    /// <param name="output">Where the summary goes.</param>
    /// <param name="error">Where problems, warnings and progress go.</param>
    /// <param name="environment">Reads environment variables.</param>
    /// <param name="stopping">A graceful stop (the first signal).</param>
    /// <param name="cancellationToken">An abort (the second signal).</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(SendRequest request, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var ledgerPath = request.Ledger ?? Path.Combine(CredentialStore.DefaultDirectory(environment), "ledger.db");
        int exitCode;
        DeliverySummary summary;
        try
        {
            (exitCode, summary) = await SendAsync(request, ledgerPath, error, environment, stopping, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            // Stopped while the ledger was being opened, before the run began.
            (exitCode, summary) = (ExitCodes.Error, new DeliverySummary { Status = DeliveryRunStatus.Stopped, Message = "Stopped before anything was sent." });
        }
        catch (Exception e)
        {
            // A defect, not a user error: the summary still says the run failed, then the error goes on up.
            await WriteSummaryJsonAsync(Failed($"Kiteflow failed unexpectedly ({e.GetType().Name}); see the error printed."), request, error).ConfigureAwait(false);
            throw;
        }

        if (!await WriteSummaryJsonAsync(summary, request, error).ConfigureAwait(false) && exitCode == ExitCodes.Success)
        {
            exitCode = ExitCodes.Error;
        }

        WriteSummary(summary, request, ledgerPath, output);
        return exitCode;
    }

    /// <summary>Writes <c>--summary-json</c> (0600) when it was asked for; false when it could not be written.</summary>
    private static async Task<bool> WriteSummaryJsonAsync(DeliverySummary summary, SendRequest request, TextWriter error)
    {
        if (request.SummaryJson is not { } summaryPath)
        {
            return true;
        }

        try
        {
            await using var file = PrivateFiles.Open(summaryPath, FileMode.Create);
            await JsonSerializer.SerializeAsync(file, summary, SummaryJson, CancellationToken.None).ConfigureAwait(false);
            await file.WriteAsync("\n"u8.ToArray(), CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"kiteflow: the summary could not be written to {summaryPath}: {e.Message}");
            return false;
        }
    }

    private static async Task<(int ExitCode, DeliverySummary Summary)> SendAsync(SendRequest request, string ledgerPath, TextWriter error, Func<string, string?> environment, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var credential = ResolveCredential(request, environment, error, out var credentialFailure);
        if (credential is null)
        {
            return (credentialFailure, Failed("No usable token: nothing was sent (the error above says why)."));
        }

        // A run is resumed by the next run of the same destination and input path; standard input is the same
        // path whatever it holds, and cannot be read again, so each of its runs is a new run of its own.
        var runKey = request.Input == "-" ? DeliveryIds.NewRunKey() : DestinationLoader.RunKey(request.Destination, request.Input);
        var options = new PlannerOptions { ApiBase = credential.ApiBase, DeliveryIdPrefix = runKey, KeepRecordText = true, Parallelism = request.Threads };
        var destination = DestinationLoader.Load(request.Destination, options, error);
        if (destination is null)
        {
            return (ExitCodes.InvalidSettings, Failed("The destination is not valid: nothing was sent (the problems above say why)."));
        }

        foreach (var warning in destination.Warnings)
        {
            error.WriteLine($"kiteflow: warning: {warning}");
        }

        if (destination.Settings.ResponseWebhook.Enabled && request.Responses is null && destination.Settings.ResponseWebhook.ForwardUrl is null)
        {
            error.WriteLine("kiteflow: warning: responseWebhook is on; pass --responses FILE to keep the response records.");
        }

        var reader = CommonOptions.OpenInput(request.Input, request.Format, error);
        if (reader is null)
        {
            return (ExitCodes.Error, Failed("The input cannot be opened: nothing was sent (the error above says why)."));
        }

        using (reader)
        {
            // The ledger keeps a run per target: batches delivered to the sandbox say nothing about Buildkite.
            var run = $"{runKey}@{credential.ApiBase.GetLeftPart(UriPartial.Authority)}";
            SqliteDeliveryLedger ledger;
            try
            {
                ledger = await SqliteDeliveryLedger.OpenAsync(ledgerPath, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsFileProblem(e))
            {
                return LedgerFailed(ledgerPath, e, isLedger: true, error, runner: null);
            }

            await using (ledger)
            {
                DeliveryRunner? runner = null;
                try
                {
                    // After a restart that resends everything, the delivery ids carry the run's new generation, so a
                    // lookup never takes an earlier generation's build for this one's.
                    var generation = await ledger.GenerationAsync(run, cancellationToken).ConfigureAwait(false) + (request.Restart == DeliveryRestart.Everything ? 1 : 0);
                    if (generation > 0)
                    {
                        destination = DestinationLoader.Load(request.Destination, new PlannerOptions { ApiBase = credential.ApiBase, DeliveryIdPrefix = DeliveryIds.Prefix(runKey, generation), KeepRecordText = true }, error)!;
                    }

                    runner = new DeliveryRunner(destination, credential, ledger, new DeliveryOptions
                    {
                        RunKey = run,
                        ResponsesPath = request.Responses,
                        RejectedPath = request.Rejected,
                        Restart = request.Restart,
                        StopGracePeriod = StopGracePeriod,
                        Warn = warning => error.WriteLine($"kiteflow: warning: {warning}"),
                        Logger = CommandLog.From(environment, error),
                    });
                    DeliverySummary summary;
                    await using (ProgressReporter.Start(runner, error))
                    {
                        summary = await runner.RunAsync(reader, stopping, cancellationToken).ConfigureAwait(false);
                    }

                    // Warnings only the records can give (unknown fields, exclusions no record has, an empty input).
                    foreach (var warning in runner.InputWarnings)
                    {
                        error.WriteLine($"kiteflow: warning: {warning}");
                    }

                    return summary.Status == DeliveryRunStatus.Stopped
                        ? (ExitCodes.Error, summary)
                        : (summary.Delivered == summary.Records ? ExitCodes.Success : ExitCodes.SomeRecordsNotDelivered, summary);
                }
                catch (DeliveryStoppedException e)
                {
                    var message = credential.Redact(e.Message);
                    error.WriteLine($"kiteflow: {message}");
                    return (ExitCodes.Error, Failed(message, runner));
                }
                catch (InputException e)
                {
                    error.WriteLine($"kiteflow: {e.Message} The records before it were handled; fix the input and run the same command again to go on.");
                    return (ExitCodes.Error, Failed(e.Message, runner));
                }
                catch (Exception e) when (IsFileProblem(e))
                {
                    return LedgerFailed(ledgerPath, e, isLedger: e is Microsoft.Data.Sqlite.SqliteException, error, runner);
                }
            }
        }
    }

    private static bool IsFileProblem(Exception e) => e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException;

    private static (int, DeliverySummary) LedgerFailed(string ledgerPath, Exception e, bool isLedger, TextWriter error, DeliveryRunner? runner)
    {
        var reason = isLedger && Directory.Exists(ledgerPath) ? "it is a folder, and the ledger is a file" : e.Message.TrimEnd('.');
        var message = isLedger
            ? $"the ledger {ledgerPath} cannot be used: {reason}. What was sent before is recorded in it; fix the file or its folder (or pass --ledger FILE) and run the same command again."
            : $"a file could not be written: {e.Message.TrimEnd('.')}. Fix it (or choose another path) and run the same command again: the ledger keeps what was sent.";
        error.WriteLine($"kiteflow: {message}");
        return (ExitCodes.Error, Failed(message, runner));
    }

    private static DeliverySummary Failed(string message, DeliveryRunner? runner = null) =>
        runner?.Summary(DeliveryRunStatus.Failed, message) ?? new DeliverySummary { Status = DeliveryRunStatus.Failed, Message = message };

    internal static readonly JsonSerializerOptions SummaryJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// The credential to send with, or null with the reason written and its exit code in <paramref name="failure"/>:
    /// <see cref="ExitCodes.InvalidSettings"/> for what the command line got wrong (a name that is not one, an unknown
    /// credential, no token in the variable), <see cref="ExitCodes.Error"/> when the credential store or its master key
    /// fails (wrong, malformed or missing key, damaged entry, unreadable store). No message repeats a token.
    /// </summary>
    private static Credential? ResolveCredential(SendRequest request, Func<string, string?> environment, TextWriter error, out int failure) =>
        ResolveCredential(request.Credential, request.TokenEnv, request.ApiBase, environment, error, out failure);

    /// <summary>
    /// The credential <c>--credential</c> names, or the token in the variable <c>--token-env</c> names (default
    /// <see cref="DefaultTokenVariable"/>) for <c>--api-base</c>; null with the reason written and its exit code in
    /// <paramref name="failure"/>, as <see cref="ResolveCredential(SendRequest, Func{string, string?}, TextWriter, out int)"/> says.
    /// </summary>
    internal static Credential? ResolveCredential(string? credentialName, string? tokenEnv, Uri? apiBaseOption, Func<string, string?> environment, TextWriter error, out int failure)
    {
        failure = ExitCodes.InvalidSettings;
        if (credentialName is { } name)
        {
            if (tokenEnv is not null)
            {
                error.WriteLine("kiteflow: give --credential or --token-env, not both.");
                return null;
            }

            if (CredentialRules.NameProblem(name) is { } nameProblem)
            {
                error.WriteLine($"kiteflow: --credential: {nameProblem}");
                return null;
            }

            try
            {
                var stored = CredentialStore.FromEnvironment(environment).Get(name);
                if (apiBaseOption is { } apiBase && apiBase.GetLeftPart(UriPartial.Path).TrimEnd('/') != stored.ApiBase.GetLeftPart(UriPartial.Path).TrimEnd('/'))
                {
                    error.WriteLine($"kiteflow: --api-base {apiBase} differs from the credential's API base {stored.ApiBase}; the credential's token goes only to its own API base.");
                    return null;
                }

                return stored;
            }
            catch (CredentialException e)
            {
                // An unknown name is the command line's mistake; a key or store that fails is not (docs/credentials.md).
                var hint = e.Kind == CredentialErrorKind.NotFound ? " kiteflow credentials list shows the names." : string.Empty;
                error.WriteLine($"kiteflow: {e.Message}{hint}");
                failure = e.Kind == CredentialErrorKind.NotFound ? ExitCodes.InvalidSettings : ExitCodes.Error;
                return null;
            }
        }

        if (tokenEnv is { } given && CredentialRules.VariableNameProblem(given) is { } variableProblem)
        {
            error.WriteLine($"kiteflow: --token-env: {variableProblem}");
            return null;
        }

        var variable = tokenEnv ?? DefaultTokenVariable;
        var token = environment(variable);
        if (string.IsNullOrWhiteSpace(token))
        {
            error.WriteLine($"kiteflow: no token: set the environment variable {variable} to a Buildkite API access token, or use --credential NAME (kiteflow credentials add).");
            return null;
        }

        var target = apiBaseOption ?? CredentialRules.DefaultApiBase;
        if (CredentialRules.ApiBaseProblem(target) is { } apiBaseProblem)
        {
            error.WriteLine($"kiteflow: --api-base: {apiBaseProblem}");
            return null;
        }

        if (CredentialRules.TokenProblem(token.Trim()) is { } tokenProblem)
        {
            error.WriteLine($"kiteflow: {variable}: {tokenProblem}");
            return null;
        }

        // The name only labels the credential in messages; the variable's name may not fit the stored-name rule.
        return new Credential("environment", token.Trim(), target, DateTimeOffset.UtcNow);
    }

    private static void WriteSummary(DeliverySummary summary, SendRequest request, string ledgerPath, TextWriter output)
    {
        if (summary.Status == DeliveryRunStatus.Failed && summary.Records == 0 && summary.Requests == 0)
        {
            // Stopped before the first record: counts of nothing, and a ledger that may not exist, would only mislead.
            var message = summary.Message ?? "Kiteflow stopped before the first record.";
            output.WriteLine(message.Contains("nothing was sent", StringComparison.OrdinalIgnoreCase) ? $"Failed: {message}" : $"Failed: {message} Nothing was sent.");
            if (File.Exists(ledgerPath))
            {
                output.WriteLine($"  ledger:    {ledgerPath}");
            }

            return;
        }

        var counts = $"{summary.Rejected:N0} rejected, {summary.PossiblyDelivered:N0} possibly delivered{(summary.Pending > 0 ? $", {summary.Pending:N0} pending" : string.Empty)}";
        var calls = $"in {summary.DurationMs / 1000.0:N1} s: {summary.Requests:N0} requests, {summary.Retries:N0} retries, {summary.RateLimitWaits:N0} rate-limit waits.";
        output.WriteLine(summary.Status switch
        {
            DeliveryRunStatus.Completed => $"Delivered {summary.Delivered:N0} of {summary.Records:N0} records ({counts}) {calls}",
            DeliveryRunStatus.Stopped => $"Stopped: delivered {summary.Delivered:N0} of the {summary.Records:N0} records read ({counts}) {calls}",
            _ => $"Failed: delivered {summary.Delivered:N0} of the {summary.Records:N0} records read ({counts}) {calls}",
        });
        if (summary.Status == DeliveryRunStatus.Stopped)
        {
            output.WriteLine(request.Input == "-"
                ? "  Standard input is not resumed (it cannot be read again): send the records that were not delivered in a new run, or send from a file to be able to go on where a run stopped."
                : "  Run the same command again to go on where it stopped: nothing delivered is sent again.");
        }

        var earlier = summary.NotDeliveredEarlier > 0
            ? $"{summary.DeliveredEarlier:N0} of these records were delivered by an earlier run, and {summary.NotDeliveredEarlier:N0} rejected or possibly delivered by it"
            : $"{summary.DeliveredEarlier:N0} of these records were delivered by an earlier run";
        if (summary.Status == DeliveryRunStatus.Completed && summary.Requests == 0 && summary.DeliveredEarlier + summary.NotDeliveredEarlier > 0)
        {
            output.WriteLine($"  Sent nothing: this command ran before, and its ledger {ledgerPath} says {earlier}.");
            output.WriteLine(request.Restart == DeliveryRestart.None
                ? "  To send again on purpose: --restart sends what was not delivered; --restart --resend-delivered sends every record again."
                : "  --restart found nothing that was not delivered; --restart --resend-delivered sends every record again.");
        }
        else if (summary.DeliveredEarlier + summary.NotDeliveredEarlier > 0)
        {
            output.WriteLine($"  Not sent again: the ledger {ledgerPath} says {earlier}.");
        }

        if (request.Responses is { } responses)
        {
            output.WriteLine($"  responses: {responses}");
        }

        if (summary.ResponsesForwarded is { } forwarded)
        {
            output.WriteLine($"  forwarded: {forwarded:N0} response records to responseWebhook.forwardUrl{(summary.ResponsesNotForwarded > 0 ? $", {summary.ResponsesNotForwarded:N0} not accepted after every attempt (they are in --responses)" : string.Empty)}");
        }

        if (request.Rejected is { } rejected)
        {
            output.WriteLine($"  rejected:  {rejected}");
        }
        else if (summary.Rejected + summary.PossiblyDelivered > 0)
        {
            output.WriteLine("  pass --rejected FILE to see which records were not delivered and why.");
        }

        output.WriteLine($"  ledger:    {ledgerPath}");
    }
}

/// <summary>The arguments of one <c>kiteflow send</c>.</summary>
internal sealed record SendRequest(FileInfo Destination, string Input, string? Format, Uri? ApiBase, string? Credential, string? TokenEnv, string? Ledger, string? Responses, string? Rejected, string? SummaryJson, DeliveryRestart Restart = DeliveryRestart.None, int? Threads = null);
