using System.CommandLine;
using System.Text.Json;
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
        var summary = new Option<string?>("--summary-json") { Description = "Write the run's summary as JSON to this file." };
        var threads = CommonOptions.Threads();
        var command = new Command("send", "Send every record of an input through a destination to Buildkite, at Buildkite's pace, resuming where an earlier run of the same command stopped.")
        {
            destination, input, format, apiBase, credential, tokenEnv, ledger, responses, rejected, summary, threads,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
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
                parseResult.GetValue(threads));
            if (SendArguments.Check(request, parseResult.InvocationConfiguration.Error) is { } failure)
            {
                return failure;
            }

            return await RunAsync(request, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, Environment.GetEnvironmentVariable, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static async Task<int> RunAsync(SendRequest request, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var credential = ResolveCredential(request, environment, error, out var credentialFailure);
        if (credential is null)
        {
            return credentialFailure;
        }

        var runKey = DestinationLoader.RunKey(request.Destination, request.Input);
        var options = new PlannerOptions { ApiBase = credential.ApiBase, DeliveryIdPrefix = runKey, KeepRecordText = true, Parallelism = request.Threads };
        var destination = DestinationLoader.Load(request.Destination, options, error);
        if (destination is null)
        {
            return ExitCodes.InvalidSettings;
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
            return ExitCodes.Error;
        }

        var ledgerPath = request.Ledger ?? Path.Combine(CredentialStore.DefaultDirectory(environment), "ledger.db");
        DeliverySummary summary;
        try
        {
            await using var ledger = await SqliteDeliveryLedger.OpenAsync(ledgerPath, cancellationToken).ConfigureAwait(false);
            var runner = new DeliveryRunner(destination, credential, ledger, new DeliveryOptions
            {
                // The ledger keeps a run per target: batches delivered to the sandbox say nothing about Buildkite.
                RunKey = $"{runKey}@{credential.ApiBase.GetLeftPart(UriPartial.Authority)}",
                ResponsesPath = request.Responses,
                RejectedPath = request.Rejected,
            });
            using (reader)
            await using (ProgressReporter.Start(runner, error))
            {
                summary = await runner.RunAsync(reader, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (DeliveryStoppedException e)
        {
            error.WriteLine($"kiteflow: {credential.Redact(e.Message)}");
            return ExitCodes.Error;
        }
        catch (InputException e)
        {
            error.WriteLine($"kiteflow: {e.Message} The records before it were handled; fix the input and run the same command again to go on.");
            return ExitCodes.Error;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("kiteflow: stopped. Every batch's state is in the ledger: run the same command again to go on where it stopped.");
            return ExitCodes.Error;
        }

        if (request.SummaryJson is { } summaryPath)
        {
            await File.WriteAllTextAsync(summaryPath, JsonSerializer.Serialize(summary, SummaryJson) + "\n", cancellationToken).ConfigureAwait(false);
        }

        WriteSummary(summary, request, ledgerPath, output);
        return summary.Delivered == summary.Records ? ExitCodes.Success : ExitCodes.SomeRecordsNotDelivered;
    }

    internal static readonly JsonSerializerOptions SummaryJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    /// <summary>
    /// The credential to send with, or null with the reason written and its exit code in <paramref name="failure"/>:
    /// <see cref="ExitCodes.InvalidSettings"/> for what the command line got wrong (a name that is not one, an unknown
    /// credential, no token in the variable), <see cref="ExitCodes.Error"/> when the credential store or its master key
    /// fails (wrong, malformed or missing key, damaged entry, unreadable store). No message repeats a token.
    /// </summary>
    private static Credential? ResolveCredential(SendRequest request, Func<string, string?> environment, TextWriter error, out int failure)
    {
        failure = ExitCodes.InvalidSettings;
        if (request.Credential is { } name)
        {
            if (request.TokenEnv is not null)
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
                if (request.ApiBase is { } apiBase && apiBase.GetLeftPart(UriPartial.Path).TrimEnd('/') != stored.ApiBase.GetLeftPart(UriPartial.Path).TrimEnd('/'))
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

        if (request.TokenEnv is { } given && CredentialRules.VariableNameProblem(given) is { } variableProblem)
        {
            error.WriteLine($"kiteflow: --token-env: {variableProblem}");
            return null;
        }

        var variable = request.TokenEnv ?? DefaultTokenVariable;
        var token = environment(variable);
        if (string.IsNullOrWhiteSpace(token))
        {
            error.WriteLine($"kiteflow: no token: set the environment variable {variable} to a Buildkite API access token, or use --credential NAME (kiteflow credentials add).");
            return null;
        }

        var target = request.ApiBase ?? CredentialRules.DefaultApiBase;
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
        output.WriteLine($"Delivered {summary.Delivered:N0} of {summary.Records:N0} records ({summary.Rejected:N0} rejected, {summary.PossiblyDelivered:N0} possibly delivered) in {summary.DurationMs / 1000.0:N1} s: {summary.Requests:N0} requests, {summary.Retries:N0} retries, {summary.RateLimitWaits:N0} rate-limit waits.");
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
internal sealed record SendRequest(FileInfo Destination, string Input, string? Format, Uri? ApiBase, string? Credential, string? TokenEnv, string? Ledger, string? Responses, string? Rejected, string? SummaryJson, int? Threads = null);
