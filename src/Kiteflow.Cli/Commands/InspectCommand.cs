using System.CommandLine;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Core.Records;

namespace Kiteflow.Cli.Commands;

/// <summary><c>kiteflow inspect</c>: the attribute paths of an input with their types and counts.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var input = CommonOptions.Input();
        var format = CommonOptions.Format();
        var json = new Option<bool>("--json") { Description = "Write the schema as JSON." };
        var command = new Command("inspect", "List the attribute paths of an input with their JSON types and how many records have them (what excludeAttributes picks from).")
        {
            input, format, json,
        };
        command.SetAction(parseResult => Run(parseResult.GetRequiredValue(input), parseResult.GetValue(format), parseResult.GetValue(json), parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
        return command;
    }

    public static int Run(string inputPath, string? format, bool asJson, TextWriter output, TextWriter error)
    {
        if (CommonOptions.InputProblem(inputPath, format) is { } problem)
        {
            error.WriteLine($"kiteflow: {problem.Message}");
            return problem.ExitCode;
        }

        using var reader = CommonOptions.OpenInput(inputPath, format, error);
        if (reader is null)
        {
            return ExitCodes.Error;
        }

        var schema = new SchemaInference();
        var rejected = 0L;
        try
        {
            foreach (var item in reader)
            {
                if (item.Record is { } record)
                {
                    using (record)
                    {
                        schema.Add(record.Value);
                    }
                }
                else
                {
                    rejected++;
                    error.WriteLine($"kiteflow: record {item.Rejection!.Record} (line {item.Rejection.Line}) cannot be read: {item.Rejection.Message}");
                }
            }
        }
        catch (InputException e)
        {
            error.WriteLine($"kiteflow: {e.Message}");
            return ExitCodes.Error;
        }

        var attributes = schema.Attributes;
        if (asJson)
        {
            var document = new
            {
                records = schema.Records,
                rejected,
                attributes = attributes.Select(a => new { path = a.Path, types = a.Types, records = a.Records }),
            };
            output.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, Encoder = MinimalJsonEncoder.Instance }));
            return ExitCodes.Success;
        }

        var width = Math.Max(9, attributes.Count == 0 ? 0 : attributes.Max(a => a.Path.Length));
        var typeWidth = Math.Max(5, attributes.Count == 0 ? 0 : attributes.Max(a => string.Join('|', a.Types).Length));
        output.WriteLine($"{"attribute".PadRight(width)}  {"types".PadRight(typeWidth)}  records");
        foreach (var attribute in attributes)
        {
            output.WriteLine($"{attribute.Path.PadRight(width)}  {string.Join('|', attribute.Types).PadRight(typeWidth)}  {attribute.Records:N0}");
        }

        output.WriteLine();
        output.WriteLine($"{schema.Records:N0} record{(schema.Records == 1 ? string.Empty : "s")} read, {rejected:N0} could not be read.");
        return ExitCodes.Success;
    }
}
