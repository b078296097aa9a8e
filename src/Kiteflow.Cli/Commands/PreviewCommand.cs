using System.CommandLine;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow preview</c>: the first requests a destination would send for an input, the records it
/// would reject and the catalog's warnings, without sending anything.
/// </summary>
internal static class PreviewCommand
{
    public static Command Create()
    {
        var destination = CommonOptions.Destination();
        var input = CommonOptions.Input();
        var format = CommonOptions.Format();
        var apiBase = CommonOptions.ApiBase();
        var limit = CommonOptions.WholeNumber("--limit", "How many requests to show (default 5).", defaultValue: 5, minimum: 1, maximum: int.MaxValue, "-n");
        var all = new Option<bool>("--all") { Description = "Plan the whole input (every request, every rejection)." };
        var json = new Option<bool>("--json") { Description = "Write the preview as one JSON document (with --watch, one compact document a line, each time)." };
        var watch = new Option<bool>("--watch") { Description = "Keep running: show the preview again whenever the destination file changes; settings problems are shown instead of ending. Ctrl+C stops." };
        var threads = CommonOptions.Threads();
        var command = new Command("preview", "Show the requests a destination would send for an input, and the records it would reject. Sends nothing.")
        {
            destination, input, format, apiBase, limit, all, json, watch, threads,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(all) is { Implicit: false } && result.GetResult(limit) is { Implicit: false })
            {
                result.AddError("give --limit N or --all, not both.");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var max = parseResult.GetValue(all) ? long.MaxValue : parseResult.GetValue(limit);
            if (parseResult.GetValue(watch))
            {
                return await PreviewWatch.RunAsync(parseResult.GetRequiredValue(destination), parseResult.GetRequiredValue(input), parseResult.GetValue(format), parseResult.GetValue(apiBase), max, parseResult.GetValue(json), output, error, cancellationToken).ConfigureAwait(false);
            }

            return Run(parseResult.GetRequiredValue(destination), parseResult.GetRequiredValue(input), parseResult.GetValue(format), parseResult.GetValue(apiBase), max, parseResult.GetValue(json), output, error, parseResult.GetValue(threads));
        });
        return command;
    }

    public static int Run(FileInfo destinationFile, string inputPath, string? format, Uri? apiBase, long limit, bool asJson, TextWriter output, TextWriter error, int? threads = null)
    {
        var input = CommonOptions.InputProblem(inputPath, format);
        if (input is { ExitCode: ExitCodes.InvalidSettings, Message: var usage })
        {
            error.WriteLine($"kiteflow: {usage}");
            return ExitCodes.InvalidSettings;
        }

        // Both files are checked before either is read, so that one run names every file that cannot be read.
        var unreadable = new[] { PathChecks.ReadableFile("--destination", destinationFile.FullName, "the destination file (JSON settings)"), input?.Message }.OfType<string>().ToList();
        if (unreadable.Count > 0)
        {
            unreadable.ForEach(p => error.WriteLine($"kiteflow: {p}"));
            return ExitCodes.Error;
        }

        var options = new PlannerOptions { ApiBase = apiBase, DeliveryIdPrefix = DestinationLoader.RunKey(destinationFile, inputPath), Parallelism = threads };
        var destination = DestinationLoader.Load(destinationFile, options, error);
        if (destination is null)
        {
            return ExitCodes.InvalidSettings;
        }

        var reader = CommonOptions.OpenInput(inputPath, format, error);
        if (reader is null)
        {
            return ExitCodes.Error;
        }

        using var plan = destination.Plan(reader);
        PreviewDocument preview;
        try
        {
            preview = PreviewDocument.Collect(destination, plan, limit);
        }
        catch (InputException e)
        {
            error.WriteLine($"kiteflow: {e.Message}");
            return ExitCodes.Error;
        }

        if (asJson)
        {
            output.WriteLine(Encoding.UTF8.GetString(preview.ToUtf8Json(indented: true)));
        }
        else
        {
            WriteText(preview, output);
        }

        return ExitCodes.Success;
    }

    internal static void WriteText(PreviewDocument preview, TextWriter output)
    {
        var destination = preview.Destination;
        var requests = preview.Requests;
        var rejections = preview.Rejections;
        var endpoint = destination.Endpoint is { } e ? $"{e.Id} — {e.Summary}, needs the {e.Scope ?? "no"} scope" : "endpoint not recognised";
        output.WriteLine($"Destination {destination.Settings.Name}: {destination.Settings.Method} {destination.Settings.Url}");
        output.WriteLine($"  {endpoint}");
        output.WriteLine();
        foreach (var request in requests)
        {
            var records = request.Records.Length == 1 ? $"record {request.Records[0]}" : $"records {request.Records[0]}–{request.Records[^1]} ({request.Records.Length})";
            output.WriteLine($"Request {request.Index + 1} · {records}");
            output.WriteLine($"  {request.Method} {request.Url}");
            foreach (var (name, value) in request.DisplayHeaders())
            {
                output.WriteLine($"  {name}: {value}");
            }

            if (request.Body is not null)
            {
                output.WriteLine();
                output.WriteLine(Indent(BodyText(request)));
            }

            output.WriteLine();
        }

        if (rejections.Count > 0)
        {
            output.WriteLine($"Rejected: {Plural(rejections.Count, "record")}");
            foreach (var group in rejections.Groups)
            {
                if (group.Count == 1)
                {
                    var (record, line) = group.Examples[0];
                    output.WriteLine($"  record {record}{(line is { } l ? $", line {l}" : string.Empty)} [{group.Stage}] {group.Message}");
                    continue;
                }

                // One line per reason, with where its first records are: 400 records refused alike are one entry.
                var more = group.Count > group.Examples.Count ? ", …" : string.Empty;
                var lines = group.Examples.All(e => e.Line is not null) ? $" (lines {string.Join(", ", group.Examples.Select(e => e.Line))}{more})" : string.Empty;
                output.WriteLine($"  {group.Count:N0} records [{group.Stage}] {group.Message}");
                output.WriteLine($"    records {string.Join(", ", group.Examples.Select(e => e.Record))}{more}{lines}");
            }

            if (rejections.Ungrouped > 0)
            {
                output.WriteLine($"  … and {Plural(rejections.Ungrouped, "more record")} refused for other reasons (send --rejected FILE lists every one)");
            }

            output.WriteLine();
        }

        var warnings = preview.Warnings;
        if (warnings.Count > 0)
        {
            output.WriteLine("Warnings:");
            foreach (var warning in warnings)
            {
                output.WriteLine($"  ! {warning}");
            }

            output.WriteLine();
        }

        var scope = preview.Stop switch
        {
            PreviewStop.InputEnded => "the whole input",
            PreviewStop.Requests => $"the first {Plural(requests.Count, "request")} (--all plans the whole input)",
            _ => $"the first {Plural(rejections.Count, "rejected record")}, where the preview stopped (--all plans the whole input)",
        };
        output.WriteLine($"Planned {Plural(requests.Count, "request")} from {Plural(preview.RecordsRead, "record")} read, {rejections.Count:N0} rejected; shown: {scope}. Nothing was sent.");
    }

    private static string Plural(long count, string noun) => $"{count:N0} {noun}{(count == 1 ? string.Empty : "s")}";

    /// <summary>The body for reading: JSON indented, other formats as they are.</summary>
    internal static string BodyText(PlannedRequest request)
    {
        if (!request.BodyIsJson)
        {
            return Encoding.UTF8.GetString(request.Body!);
        }

        // A batch wraps records that may nest 64 levels in an array, and the property algorithm in an
        // object as well: the body may be two levels deeper than any record.
        using var document = JsonDocument.Parse(request.Body, new JsonDocumentOptions { MaxDepth = 128 });
        return JsonText.Indented(document.RootElement);
    }

    internal static string Indent(string text) => "    " + text.ReplaceLineEndings("\n    ");
}
