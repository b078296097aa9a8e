using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiteflow.Core.Tests.Catalog;

/// <summary>
/// One documented example of the Buildkite REST API, read from the copy committed at
/// <c>tests/fixtures/buildkite-api/examples</c> (never from outside the repository).
/// </summary>
internal sealed record BuildkiteExample(
    string File,
    string Endpoint,
    string? Method,
    string? Path,
    string? Scope,
    JsonObject? RequestBody,
    IReadOnlyList<string> RequiredFields,
    IReadOnlyList<string> OptionalFields)
{
    // Values put in place of the fixture's path placeholders (index.json's "conventions.pathPlaceholders").
    private static readonly Dictionary<string, string> PlaceholderValues = new(StringComparer.Ordinal)
    {
        ["org"] = "acme-inc",
        ["pipeline"] = "my-pipeline",
        ["number"] = "42",
        ["job"] = "01234567-89ab-4cde-8f01-23456789abcd",
        ["cluster"] = "42f1a7da-812d-4430-93d8-1cc7c33a6bcf",
        ["team"] = "5b6c4a01-8e4f-49a3-bf88-be0d47ef9c0a",
        ["id"] = "0b461f65-e7be-4c80-888a-ef11d81fd971",
        ["uuid"] = "018b8d10-6b5b-4df2-b0ff-dfa2af566050",
    };

    private static readonly Lazy<IReadOnlyList<BuildkiteExample>> Loaded = new(LoadAll);

    /// <summary>The folder holding Kiteflow.slnx, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ExamplesFolder { get; } = System.IO.Path.Combine(RepositoryRoot, "tests", "fixtures", "buildkite-api", "examples");

    public static IReadOnlyList<BuildkiteExample> All => Loaded.Value;

    /// <summary>A topic file (rate limits, pagination...) rather than one endpoint.</summary>
    public bool IsGeneral => Endpoint.StartsWith("general.", StringComparison.Ordinal);

    /// <summary>Whether the example names a request the catalog should recognise.</summary>
    public bool HasRequest => Method is not null && Path is not null;

    public static BuildkiteExample Get(string file) => All.Single(example => example.File == file);

    /// <summary>The path's segments with every placeholder filled with a plausible value.</summary>
    public IReadOnlyList<string?> FilledSegments() =>
        [.. Segments().Select(segment => IsPlaceholder(segment) ? Fill(segment) : segment)];

    /// <summary>The path's segments with every placeholder left to a record's macro (null).</summary>
    public IReadOnlyList<string?> MacroSegments() =>
        [.. Segments().Select(segment => IsPlaceholder(segment) ? null : segment)];

    /// <summary>The request body as the element a planner would check; <c>default</c> when the example sends none.</summary>
    public JsonElement BodyElement() => RequestBody is null ? default : ToElement(RequestBody);

    public static JsonElement ToElement(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();

    public override string ToString() => File;

    private string[] Segments() => Path!.TrimStart('/').Split('/');

    private static bool IsPlaceholder(string segment) => segment.StartsWith('{') && segment.EndsWith('}');

    private string Fill(string placeholder) =>
        PlaceholderValues.TryGetValue(placeholder[1..^1], out var value)
            ? value
            : throw new InvalidOperationException($"{File}: the path placeholder {placeholder} has no test value; add one to BuildkiteExample.");

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(directory.FullName, "Kiteflow.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Kiteflow.slnx.");
    }

    private static IReadOnlyList<BuildkiteExample> LoadAll() =>
    [
        .. Directory.EnumerateFiles(ExamplesFolder, "*.json")
            .Where(path => System.IO.Path.GetFileName(path) != "index.json")
            .Order(StringComparer.Ordinal)
            .Select(Load),
    ];

    private static BuildkiteExample Load(string path)
    {
        var root = JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
        return new BuildkiteExample(
            System.IO.Path.GetFileName(path),
            (string)root["endpoint"]!,
            (string?)root["method"],
            (string?)root["path"],
            (string?)root["scope"],
            root["requestBody"]?.AsObject(),
            Strings(root["requiredFields"]),
            Strings(root["optionalFields"]));
    }

    private static string[] Strings(JsonNode? node) =>
        node is JsonArray array ? [.. array.Select(item => (string)item!)] : [];
}
