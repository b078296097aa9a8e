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
        ServeCommand.Create(),
    };
}
