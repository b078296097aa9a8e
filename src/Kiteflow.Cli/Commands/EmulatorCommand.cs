using System.CommandLine;
using System.CommandLine.Parsing;
using Kiteflow.Sandbox;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow emulator</c>: runs the sandbox, Kiteflow's Buildkite REST API emulator, on 127.0.0.1 until
/// SIGINT or SIGTERM. The first line on stdout is the base URL (the API is under <c>{base}/v2/</c>).
/// </summary>
internal static class EmulatorCommand
{
    public static Command Create()
    {
        var port = CommonOptions.WholeNumber("--port", "TCP port on 127.0.0.1; 0 (the default) picks a free one.", defaultValue: 0, minimum: 0, maximum: 65535);
        var tokens = new Option<string[]>("--token")
        {
            Description = "An extra token the sandbox accepts, as TOKEN:scope,scope (TOKEN:* for every scope). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
            CustomParser = ParseTokens,
        };
        var seed = new Option<FileInfo?>("--seed") { Description = "A JSON seed file: organizations, users, pipelines, agents, clusters, teams, tokens (docs/sandbox.md)." };
        var rateLimit = new Option<string>("--rate-limit") { Description = "The per-organization limit, N/Ws (default 200/60s).", DefaultValueFactory = _ => "200/60s" };
        var userRateLimit = new Option<string>("--user-rate-limit") { Description = "The per-user limit, N/Ws (default 50/60s).", DefaultValueFactory = _ => "50/60s" };
        var window = new Option<RateLimitWindowKind>("--rate-limit-window")
        {
            Description = "fixed (default, as Buildkite) or sliding.",
            DefaultValueFactory = _ => RateLimitWindowKind.Fixed,
            CustomParser = ParseWindow,
        };
        var faults = new Option<FileInfo?>("--faults") { Description = "A JSON file of fault rules applied from the start ({\"rules\": [...]})." };
        var randomSeed = CommonOptions.OptionalWholeNumber("--seed-random", "Seeds fault probabilities and generated ids so that a run replays.", int.MinValue, int.MaxValue);
        var command = new Command("emulator", "Run the sandbox: a local emulator of the Buildkite REST API, to try Kiteflow or any Buildkite client without an account.")
        {
            port, tokens, seed, rateLimit, userRateLimit, window, faults, randomSeed,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var problems = new List<string>();
            var options = new SandboxOptions
            {
                Port = parseResult.GetValue(port),
                SeedFile = parseResult.GetValue(seed)?.FullName,
                FaultsFile = parseResult.GetValue(faults)?.FullName,
                RandomSeed = parseResult.GetValue(randomSeed),
                RateLimitWindow = parseResult.GetValue(window),
            };
            if (RateLimitSetting.TryParse(parseResult.GetValue(rateLimit), out var org))
            {
                options.OrganizationLimit = org;
            }
            else
            {
                problems.Add($"--rate-limit: '{CommonOptions.Shown(parseResult.GetValue(rateLimit) ?? string.Empty)}' is not N/Ws, e.g. 200/60s.");
            }

            if (RateLimitSetting.TryParse(parseResult.GetValue(userRateLimit), out var user))
            {
                options.UserLimit = user;
            }
            else
            {
                problems.Add($"--user-rate-limit: '{CommonOptions.Shown(parseResult.GetValue(userRateLimit) ?? string.Empty)}' is not N/Ws, e.g. 50/60s.");
            }

            foreach (var text in parseResult.GetValue(tokens) ?? [])
            {
                options.Tokens.Add(SandboxToken.Parse(text));
            }

            if (problems.Count > 0)
            {
                problems.ForEach(p => error.WriteLine($"kiteflow: {p}"));
                return ExitCodes.InvalidSettings;
            }

            var unreadable = new[]
            {
                options.SeedFile is { } seedFile ? PathChecks.ReadableFile("--seed", seedFile, "a JSON seed file (docs/sandbox.md)") : null,
                options.FaultsFile is { } faultsFile ? PathChecks.ReadableFile("--faults", faultsFile, "a JSON faults file ({\"rules\": [...]})") : null,
            }.OfType<string>().ToList();
            if (unreadable.Count > 0)
            {
                unreadable.ForEach(p => error.WriteLine($"kiteflow: {p}"));
                return ExitCodes.Error;
            }

            return await RunAsync(options, output, error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static async Task<int> RunAsync(SandboxOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        SandboxServer server;
        try
        {
            server = await SandboxServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"kiteflow: {e.Message}");
            return ExitCodes.InvalidSettings;
        }
        catch (IOException e)
        {
            error.WriteLine($"kiteflow: the sandbox could not listen on 127.0.0.1:{options.Port}: {e.Message}");
            return ExitCodes.Error;
        }

        await using (server.ConfigureAwait(false))
        {
            // The base URL first and alone on its line, so that scripts can read it.
            output.WriteLine(server.BaseAddress.ToString().TrimEnd('/'));
            output.Flush();
            if (options.SeedFile is null)
            {
                error.WriteLine($"kiteflow: sandbox ready; API under {server.BaseAddress}v2/ ; token {SandboxServer.DefaultToken} (every scope). Ctrl+C stops it.");
            }

            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGINT or SIGTERM: stop cleanly.
            }
        }

        return ExitCodes.Success;
    }

    private static string[] ParseTokens(ArgumentResult result)
    {
        var values = new List<string>();
        foreach (var token in result.Tokens)
        {
            if (!SandboxToken.TryParse(token.Value, out _))
            {
                // The value is not repeated: it may be a real token pasted by mistake.
                result.AddError("--token: a value is not TOKEN:scope,scope (e.g. my-token:read_builds,write_builds, or my-token:* for every scope).");
                return [];
            }

            values.Add(token.Value);
        }

        return [.. values];
    }

    private static RateLimitWindowKind ParseWindow(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (Enum.TryParse<RateLimitWindowKind>(text, ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !char.IsAsciiDigit(text.FirstOrDefault()))
        {
            return kind;
        }

        result.AddError($"--rate-limit-window: '{CommonOptions.Shown(text)}' is not fixed or sliding.");
        return RateLimitWindowKind.Fixed;
    }
}
