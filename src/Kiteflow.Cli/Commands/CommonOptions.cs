using System.CommandLine;
using System.CommandLine.Parsing;
using Kiteflow.Core.Records;
using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Cli.Commands;

/// <summary>Options several commands share, so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<FileInfo> Destination() => new("--destination", "-d")
    {
        Description = "The destination file (JSON settings: method, url, headers, batching, …).",
        Required = true,
    };

    public static Option<string> Input() => new("--input", "-i")
    {
        Description = "The records: a .json array, .jsonl / .ndjson lines or .csv file; - for standard input.",
        Required = true,
    };

    public static Option<string?> Format()
    {
        var option = new Option<string?>("--format")
        {
            Description = "The input format when the extension does not tell it: json, jsonl or csv; rejected for a file written by send --rejected (its records' data).",
        };
        option.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string?>();
            try
            {
                RecordReader.ParseFormatName(text);
            }
            catch (InputException)
            {
                result.AddError($"--format: '{Shown(text ?? string.Empty)}' is not an input format; use json, jsonl, csv or rejected.");
            }
        });
        return option;
    }

    public static Option<Uri?> ApiBase() => new("--api-base")
    {
        Description = "Send to this API base instead of https://api.buildkite.com (e.g. the sandbox's http://127.0.0.1:PORT). Plain http only on loopback.",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            {
                // The rules send applies, for every command: a preview must not show URLs send would refuse.
                if (CredentialRules.ApiBaseProblem(uri) is { } problem)
                {
                    result.AddError($"--api-base: {problem}");
                    return null;
                }

                return uri;
            }

            result.AddError($"--api-base: '{Shown(text)}' is not an http(s) URL such as https://api.buildkite.com or the sandbox's http://127.0.0.1:43121.");
            return null;
        },
    };

    /// <summary>--threads: how many threads plan records, overriding the destination's <c>delivery.planningThreads</c>.</summary>
    public static Option<int?> Threads() => OptionalWholeNumber(
        "--threads",
        "How many threads read, template, check and shape records, 1–64 (default: the destination's delivery.planningThreads, else one per processor).",
        minimum: 1,
        maximum: 64);

    /// <summary>
    /// An option taking a whole number from <paramref name="minimum"/> to <paramref name="maximum"/>. Its own parser
    /// says "a whole number" where System.CommandLine would say "expected type 'System.Int32'".
    /// </summary>
    public static Option<int> WholeNumber(string name, string description, int defaultValue, int minimum, int maximum, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseWholeNumber(result, name, minimum, maximum) ?? defaultValue,
    };

    /// <summary>Like <see cref="WholeNumber"/>, for an option that may be left out (null).</summary>
    public static Option<int?> OptionalWholeNumber(string name, string description, int minimum, int maximum) => new(name)
    {
        Description = description,
        CustomParser = result => ParseWholeNumber(result, name, minimum, maximum),
    };

    /// <summary>
    /// Why the input cannot be read, with the exit code that goes with it: the file is missing, a folder or unreadable
    /// (<see cref="ExitCodes.Error"/>), or its format cannot be told from its name (<see cref="ExitCodes.InvalidSettings"/>).
    /// Null when it can be opened. Standard input (<c>-</c>) always can.
    /// </summary>
    public static (int ExitCode, string Message)? InputProblem(string path, string? format)
    {
        if (path == "-")
        {
            return null;
        }

        if (PathChecks.ReadableFile("--input", path, "the records file (.json, .jsonl, .ndjson or .csv), or - for standard input") is { } problem)
        {
            return (ExitCodes.Error, problem);
        }

        if (format is null)
        {
            try
            {
                RecordReader.FormatFromExtension(path);
            }
            catch (InputException)
            {
                return (ExitCodes.InvalidSettings, $"--input: the format of '{Shown(path)}' cannot be told from its extension; add --format json, jsonl or csv.");
            }
        }

        return null;
    }

    /// <summary>Opens the input, or writes why it cannot be opened and returns null.</summary>
    /// <summary>
    /// The problems of the options that say where the token comes from and what the input is, shared by the commands
    /// that send (<c>send</c>, <c>test</c>): added to <paramref name="problems"/> (each exit 2). Answers the input's
    /// problem, whose unreadable-file kind (exit 1) the caller reports after the others.
    /// </summary>
    public static (int ExitCode, string Message)? SendingOptionProblems(string? credential, string? tokenEnv, string input, string? format, List<string> problems)
    {
        if (credential is not null && tokenEnv is not null)
        {
            problems.Add("give --credential or --token-env, not both.");
        }

        if (credential is { } name && CredentialRules.NameProblem(name) is { } nameProblem)
        {
            problems.Add($"--credential: {nameProblem}");
        }

        if (tokenEnv is { } variable && CredentialRules.VariableNameProblem(variable) is { } variableProblem)
        {
            problems.Add($"--token-env: {variableProblem}");
        }

        var inputProblem = InputProblem(input, format);
        if (inputProblem is { ExitCode: ExitCodes.InvalidSettings, Message: var formatProblem })
        {
            problems.Add(formatProblem);
        }

        return inputProblem;
    }

    public static RecordReader? OpenInput(string path, string? format, TextWriter error)
    {
        if (path != "-" && PathChecks.ReadableFile("--input", path, "the records file (.json, .jsonl, .ndjson or .csv), or - for standard input") is { } problem)
        {
            error.WriteLine($"kiteflow: {problem}");
            return null;
        }

        try
        {
            return RecordReader.Open(path, RecordReader.ParseFormatName(format));
        }
        catch (InputException e)
        {
            error.WriteLine($"kiteflow: {Shown(e.Message)}");
            return null;
        }
    }

    /// <summary>What the user typed, as a message may repeat it: anything that looks like a token hidden.</summary>
    public static string Shown(string text) => CredentialRules.HideTokens(text);

    private static int? ParseWholeNumber(ArgumentResult result, string name, int minimum, int maximum)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[0].Value;
        var range = (minimum, maximum) switch
        {
            (int.MinValue, int.MaxValue) => "(e.g. 42)",
            (_, int.MaxValue) => $"of {minimum} or more",
            _ => $"from {minimum} to {maximum}",
        };
        if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{name}: '{Shown(text)}' is not a whole number; give a whole number {range}.");
            return null;
        }

        if (value < minimum || value > maximum)
        {
            result.AddError($"{name}: {value} is out of range; give a whole number {range}.");
            return null;
        }

        return value;
    }
}
