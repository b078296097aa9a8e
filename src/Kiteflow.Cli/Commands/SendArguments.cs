using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// What <c>kiteflow send</c> checks in its arguments before it reads or sends anything, so that a wrong command
/// line is one line per problem and the documented exit code (docs/cli.md), never an exception from deep inside a run.
/// </summary>
internal static class SendArguments
{
    /// <summary>
    /// The command line's own problems, before anything is read or sent: the names given to --credential and
    /// --token-env, the input's format, and output files that would overwrite an input or each other
    /// (<see cref="ExitCodes.InvalidSettings"/>); then files that cannot be read or written (<see cref="ExitCodes.Error"/>).
    /// Every problem of the first kind found is listed, else every problem of the second; null when there are none.
    /// </summary>
    public static int? Check(SendRequest request, TextWriter error)
    {
        var problems = new List<string>();
        var input = CommonOptions.SendingOptionProblems(request.Credential, request.TokenEnv, request.Input, request.Format, problems);

        (string Option, string? Path, string Example)[] outputs = [("--ledger", request.Ledger, "ledger.db"), ("--responses", request.Responses, "responses.jsonl"), ("--rejected", request.Rejected, "rejected.jsonl"), ("--summary-json", request.SummaryJson, "summary.json")];
        (string Option, string Path)[] inputs = [("--destination", request.Destination.FullName), ("--input", request.Input)];
        for (var i = 0; i < outputs.Length; i++)
        {
            if (outputs[i].Path is not { } path)
            {
                continue;
            }

            foreach (var (option, other) in inputs.Where(o => o.Path != "-").Concat(outputs[..i].Where(o => o.Path is not null).Select(o => (o.Option, o.Path!))))
            {
                if (PathChecks.SameFile(path, other))
                {
                    problems.Add($"{outputs[i].Option} names the same file as {option} ('{CommonOptions.Shown(path)}'), which would be overwritten; give each its own file.");
                }
            }
        }

        if (problems.Count > 0)
        {
            problems.ForEach(p => error.WriteLine($"kiteflow: {p}"));
            return ExitCodes.InvalidSettings;
        }

        if (PathChecks.ReadableFile("--destination", request.Destination.FullName, "the destination file (JSON settings)") is { } destinationProblem)
        {
            problems.Add(destinationProblem);
        }

        if (input is { ExitCode: ExitCodes.Error, Message: var inputProblem })
        {
            problems.Add(inputProblem);
        }

        foreach (var (option, path, example) in outputs)
        {
            if (path is not null && PathChecks.WritableFile(option, path, example) is { } outputProblem)
            {
                problems.Add(outputProblem);
            }
        }

        // Without --ledger the ledger goes in Kiteflow's data folder, which is made when missing: unless a file is in the way.
        if (request.Ledger is null && PathChecks.CreatableFolder("the data folder", CredentialStore.DefaultDirectory(Environment.GetEnvironmentVariable), "point KITEFLOW_HOME at a folder, or give --ledger FILE") is { } dataProblem)
        {
            problems.Add(dataProblem);
        }

        problems.ForEach(p => error.WriteLine($"kiteflow: {p}"));
        return problems.Count > 0 ? ExitCodes.Error : null;
    }
}
