using System.CommandLine;
using Kiteflow.Core.Records;

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

    public static Option<string?> Format() => new("--format")
    {
        Description = "The input format when the extension does not tell it: json, jsonl or csv; rejected for a file written by send --rejected (its records' data).",
    };

    public static Option<Uri?> ApiBase() => new("--api-base")
    {
        Description = "Send to this API base instead of https://api.buildkite.com (e.g. the sandbox's http://127.0.0.1:PORT). Plain http only on loopback.",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            {
                return uri;
            }

            result.AddError($"--api-base: '{text}' is not an http(s) URL such as http://127.0.0.1:43121.");
            return null;
        },
    };

    /// <summary>Opens the input, or writes why it cannot be opened and returns null.</summary>
    public static RecordReader? OpenInput(string path, string? format, TextWriter error)
    {
        try
        {
            return RecordReader.Open(path, RecordReader.ParseFormatName(format));
        }
        catch (InputException e)
        {
            error.WriteLine($"kiteflow: {e.Message}");
            return null;
        }
    }
}
