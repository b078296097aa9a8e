using System.CommandLine;
using Kiteflow.Cli.Commands;

namespace Kiteflow.Cli;

/// <summary>The kiteflow command tree: one *Command class per verb.</summary>
internal static class KiteflowCommandLine
{
    public static RootCommand CreateRoot() => new("Kiteflow sends the records of a dataset to the Buildkite REST API: preview every request, then deliver them at Buildkite's pace.")
    {
        DemoCommand.Create(),
        PreviewCommand.Create(),
        SendCommand.Create(),
        InspectCommand.Create(),
        EmulatorCommand.Create(),
        CredentialsCommand.Create(),
    };

    /// <summary>
    /// Whether <paramref name="command"/> handles SIGINT and SIGTERM itself (<see cref="StopSignals"/>): a delivery
    /// stops in two stages, which System.CommandLine's one-stage handling would cut short.
    /// </summary>
    public static bool HandlesSignals(Command command) => command.Name is "send" or "demo";

    /// <summary>Parses <paramref name="args"/> and runs the command, with System.CommandLine's signal handling where the command has none of its own.</summary>
    public static Task<int> InvokeAsync(string[] args)
    {
        var parseResult = CreateRoot().Parse(args);
        var configuration = new InvocationConfiguration();
        if (HandlesSignals(parseResult.CommandResult.Command))
        {
            configuration.ProcessTerminationTimeout = null;
        }

        return parseResult.InvokeAsync(configuration);
    }
}
