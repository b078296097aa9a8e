using System.CommandLine;
using System.CommandLine.Invocation;
using Kiteflow.Cli.Commands;
using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Cli;

/// <summary>The kiteflow command tree: one *Command class per verb.</summary>
internal static class KiteflowCommandLine
{
    public static RootCommand CreateRoot() => new("Kiteflow sends the records of a dataset to the Buildkite REST API: preview every request, then deliver them at Buildkite's pace.")
    {
        DemoCommand.Create(),
        PreviewCommand.Create(),
        SendCommand.Create(),
        TestCommand.Create(),
        InspectCommand.Create(),
        EmulatorCommand.Create(),
        CredentialsCommand.Create(),
        ServeCommand.Create(),
    };

    /// <summary>
    /// Runs kiteflow with <paramref name="args"/> as the process does (Program.cs), writing to <paramref name="output"/>
    /// and <paramref name="error"/> (the console when null). Argument errors exit with <see cref="ExitCodes.InvalidSettings"/>,
    /// one line each; an exception no command expected exits with <see cref="ExitCodes.Error"/> and one line, never a stack trace.
    /// </summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null) =>
        InvokeAsync(CreateRoot(), args, output, error);

    /// <summary><see cref="InvokeAsync(string[], TextWriter?, TextWriter?)"/> for a given command tree (tests hand in one that fails).</summary>
    internal static async Task<int> InvokeAsync(RootCommand root, string[] args, TextWriter? output, TextWriter? error)
    {
        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (output is not null)
        {
            configuration.Output = output;
        }

        if (error is not null)
        {
            configuration.Error = error;
        }

        ParseResult? parseResult = null;
        try
        {
            parseResult = root.Parse(args);
            if (parseResult.Action is ParseErrorAction)
            {
                WriteParseErrors(parseResult, configuration.Error);
                return ExitCodes.InvalidSettings;
            }

            if (HandlesSignals(parseResult.CommandResult.Command))
            {
                configuration.ProcessTerminationTimeout = null;
            }

            return await parseResult.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The last resort: whatever a command did not expect is one line naming the command and what failed.
            var failure = e is AggregateException or System.Reflection.TargetInvocationException ? e.GetBaseException() : e;
            var command = parseResult is null ? "kiteflow" : CommandPath(parseResult);
            configuration.Error.WriteLine(failure is OperationCanceledException
                ? $"{command}: stopped before it finished."
                : $"{command} failed: {OneLine(failure.Message)} ({failure.GetType().Name}; if this does not say what to fix, please report it).");
            return ExitCodes.Error;
        }
    }

    /// <summary>One line per parse error, each naming the command; the last one says where the options are described.</summary>
    private static void WriteParseErrors(ParseResult parseResult, TextWriter error)
    {
        var command = CommandPath(parseResult);
        var unmatched = parseResult.UnmatchedTokens;
        var messages = parseResult.Errors.Select(e => OneLine(e.Message)).Distinct(StringComparer.Ordinal).ToList();

        // An unknown word already says that no command was given; the value after an unknown option is not a second
        // problem; an option a letter or two away from a real one is named.
        if (unmatched.Count > 0)
        {
            messages.RemoveAll(m => m.StartsWith("Required command was not provided", StringComparison.Ordinal));
        }

        for (var i = 1; i < unmatched.Count; i++)
        {
            if (unmatched[i - 1].StartsWith('-') && !unmatched[i].StartsWith('-'))
            {
                messages.RemoveAll(m => m == $"Unrecognized command or argument '{OneLine(unmatched[i])}'.");
            }
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var token = unmatched.FirstOrDefault(t => t.StartsWith("--", StringComparison.Ordinal) && messages[i] == $"Unrecognized command or argument '{OneLine(t)}'.");
            if (token is not null && Kiteflow.Core.NameSuggestions.Closest(token, parseResult.CommandResult.Command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal))) is { } suggestion)
            {
                messages[i] = $"Unrecognized option '{OneLine(token)}'; did you mean {suggestion}?";
            }
        }
        for (var i = 0; i < messages.Count; i++)
        {
            error.WriteLine($"{command}: {messages[i]}{(i == messages.Count - 1 ? $" See '{command} --help'." : string.Empty)}");
        }

        if (parseResult.UnmatchedTokens.Any(CredentialRules.LooksLikeToken))
        {
            error.WriteLine("kiteflow: a value on the command line looks like a token, and kiteflow never takes a token there (the shell history and the process list would keep it): put it in an environment variable and give that variable's name to --token-env, or store it with kiteflow credentials add.");
        }
    }

    /// <summary>"kiteflow credentials add": the command the parse reached.</summary>
    private static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command is RootCommand ? "kiteflow" : result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>A message on one line, with anything that looks like a token hidden.</summary>
    private static string OneLine(string message) =>
        CredentialRules.HideTokens(string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    /// <summary>
    /// Whether <paramref name="command"/> handles SIGINT and SIGTERM itself: a delivery stops in two stages
    /// (<see cref="StopSignals"/>), and <c>serve</c> leaves them to its host, which stops taking requests and lets the
    /// calls of active destinations finish (up to its shutdown timeout). System.CommandLine's one-stage handling would
    /// cut either short: it ends the process a fixed two seconds after the signal, with 130/143.
    /// </summary>
    public static bool HandlesSignals(Command command) => command.Name is "send" or "demo" or "serve";
}
