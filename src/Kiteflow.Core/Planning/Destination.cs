using System.Text.Json;
using Kiteflow.Core.Catalog;
using Kiteflow.Core.Formats;
using Kiteflow.Core.Records;
using Kiteflow.Core.Scripting;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Shaping;
using Kiteflow.Core.Templating;

namespace Kiteflow.Core.Planning;

/// <summary>
/// A destination's settings compiled for planning: templates parsed, the endpoint recognised, the
/// batching script loaded. Compile once; plan any number of inputs with <see cref="Plan"/>.
/// </summary>
public sealed class Destination
{
    private Destination(DestinationSettings settings, PlannerOptions options, UrlTemplate url, HeaderTemplates headers, BodyShaper shaper, BodyTemplate? bodyTemplate, BatchScript? script, EndpointDefinition? endpoint, IReadOnlyList<string> warnings)
    {
        BodyTemplate = bodyTemplate;
        Settings = settings;
        Options = options;
        Url = url;
        Headers = headers;
        Shaper = shaper;
        Script = script;
        Endpoint = endpoint;
        Warnings = warnings;
        Capture = MacroCapture.Compile(url.Macros.Concat(headers.Macros));
    }

    /// <summary>The settings this destination was compiled from.</summary>
    public DestinationSettings Settings { get; }

    /// <summary>The options it was compiled with.</summary>
    public PlannerOptions Options { get; }

    /// <summary>The Buildkite endpoint recognised from the method and URL, or null when none is.</summary>
    public EndpointDefinition? Endpoint { get; }

    /// <summary>
    /// How many threads plan records: <see cref="PlannerOptions.Parallelism"/> when given, else the settings'
    /// <c>delivery.planningThreads</c>, else one per processor.
    /// </summary>
    public int PlanningThreads => Math.Max(1, Options.Parallelism ?? Settings.Delivery.PlanningThreads ?? Environment.ProcessorCount);

    /// <summary>The token scope the endpoint needs, when it is known.</summary>
    public string? Scope => Endpoint?.Scope;

    /// <summary>Warnings that follow from the settings alone (before any record is read).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Whether each record's body is checked against the endpoint (known endpoint, one record per body).</summary>
    public bool ValidatesBodies => Endpoint is { TakesBody: true } && !Settings.Batching.Enabled;

    /// <summary>Whether requests carry a body.</summary>
    public bool SendsBody => Sends(Settings, Endpoint);

    internal UrlTemplate Url { get; }

    internal HeaderTemplates Headers { get; }

    internal BodyShaper Shaper { get; }

    /// <summary>The attribute paths the URL and headers read, captured while a record is shaped.</summary>
    internal MacroCapture Capture { get; }

    /// <summary>The compiled <c>bodyTemplate</c>: each body is it filled from the record; null when the record is the body.</summary>
    internal BodyTemplate? BodyTemplate { get; }

    /// <summary>The batching script as compiled when the settings were checked; each plan runs its own copy (<see cref="NewScript"/>).</summary>
    internal BatchScript? Script { get; }

    /// <summary>
    /// A batching script of its own for one plan: a Jint engine is not safe to share, and plans of one destination run
    /// at once (a preview beside a delivery, several test sends). Null when batching does not use code.
    /// </summary>
    internal BatchScript? NewScript() =>
        Script is null ? null : BatchScript.Compile(Settings.Batching.Code!, ScriptLimits.Default, []) ?? throw new InvalidOperationException("A script that compiled once failed to compile again.");

    internal string? ContentType => SendsBody ? BodyFormats.ContentType(Settings.ContentFormat) : null;

    /// <summary>Compiles settings read by <see cref="DestinationSettingsReader"/>, reporting every problem at once.</summary>
    public static (Destination? Destination, IReadOnlyList<SettingsProblem> Problems) Compile(DestinationSettings settings, PlannerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        options ??= new PlannerOptions();
        var problems = new List<SettingsProblem>();
        var url = UrlTemplate.Compile(settings.Url, options.ApiBase, problems);
        var headers = HeaderTemplates.Compile(settings.Headers, problems);
        var batching = settings.Batching;
        BatchScript? script = null;
        if (batching.Enabled && batching.Algorithm == BatchAlgorithm.Code && !string.IsNullOrWhiteSpace(batching.Code))
        {
            script = BatchScript.Compile(batching.Code, ScriptLimits.Default, problems);
        }

        if (settings.ResponseWebhook.ForwardUrl is { } forward
            && (!Uri.TryCreate(forward, UriKind.Absolute, out var forwardUri)
                || !(forwardUri.Scheme == Uri.UriSchemeHttps || (forwardUri.Scheme == Uri.UriSchemeHttp && UrlTemplate.IsLoopback(forwardUri)))))
        {
            problems.Add(new SettingsProblem("responseWebhook.forwardUrl", $"'{forward}' is not an https URL (plain http is allowed only on loopback)."));
        }

        EndpointDefinition? endpoint = null;
        var warnings = new List<string>();
        if (url is not null)
        {
            endpoint = Recognise(settings, url, warnings);
        }

        var shaper = BodyShaper.Compile(settings.ExcludeAttributes, injectDeliveryId: endpoint?.Id == "builds.create", problems);
        var bodyTemplate = settings.BodyTemplate is { } templateJson ? CompileBodyTemplate(templateJson, settings, url, endpoint, problems) : null;
        if (problems.Count > 0)
        {
            return (null, problems);
        }

        return (new Destination(settings, options, url!, headers!, shaper!, bodyTemplate, script, endpoint, warnings), problems);
    }

    /// <summary>
    /// Compiles settings whose reading found <paramref name="readProblems"/>, so a file's problems are
    /// listed together: an unknown key or a bad batching value does not hide a bad header. A key the
    /// reader already refused is not reported again; a file that could not be read as an object, or whose
    /// problems end its reading (<see cref="SettingsProblem.Final"/>), is not compiled at all.
    /// </summary>
    public static (Destination? Destination, IReadOnlyList<SettingsProblem> Problems) Compile(DestinationSettings settings, IReadOnlyList<SettingsProblem> readProblems, PlannerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(readProblems);
        if (readProblems.Count == 0)
        {
            return Compile(settings, options);
        }

        if (readProblems.Any(p => p.Key == SettingsProblem.FileKey || p.Final))
        {
            return (null, readProblems);
        }

        var (_, compileProblems) = Compile(settings, options);
        var readKeys = readProblems.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        return (null, [.. readProblems, .. compileProblems.Where(p => !readKeys.Contains(p.Key))]);
    }

    /// <summary>Plans <paramref name="reader"/>'s records lazily: enumerate the plan to read, template, shape, batch and check them.</summary>
    public Plan Plan(RecordReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new Plan(this, reader);
    }

    private static bool Sends(DestinationSettings settings, EndpointDefinition? endpoint) =>
        settings.Batching.Enabled || (settings.Method != "DELETE" && endpoint is not { TakesBody: false });

    /// <summary>Compiles <c>bodyTemplate</c> and checks that it fits the rest of the settings.</summary>
    private static BodyTemplate? CompileBodyTemplate(string json, DestinationSettings settings, UrlTemplate? url, EndpointDefinition? endpoint, List<SettingsProblem> problems)
    {
        var template = BodyTemplate.Compile(json, problems);
        if (settings.ExcludeAttributes.Count > 0)
        {
            // Exclusions take attributes out of the record, and with a template the record is not the body:
            // the template already names everything sent. Applying them to the filled body instead would
            // be a second, surprising meaning for the same key.
            problems.Add(new SettingsProblem("excludeAttributes", "excludeAttributes has no effect with a bodyTemplate: the template alone says what the body holds. Remove excludeAttributes (or the template)."));
        }

        if (url is not null && !Sends(settings, endpoint))
        {
            var why = settings.Method == "DELETE" ? "DELETE sends no body unless batching is on" : $"{endpoint!.Id} takes no body";
            problems.Add(new SettingsProblem(BodyTemplate.Key, $"{why}, so the template would never be sent; remove bodyTemplate."));
        }
        else if (template?.Kind is { } kind and not JsonValueKind.Object && endpoint is { TakesBody: true } && !settings.Batching.Enabled)
        {
            problems.Add(new SettingsProblem(BodyTemplate.Key, $"{endpoint.Id} takes a JSON object, and the template is {Records.RecordParser.KindName(kind)}; write it as an object, e.g. {{\"body\": \"…\"}}."));
        }

        return template;
    }

    private static EndpointDefinition? Recognise(DestinationSettings settings, UrlTemplate url, List<string> warnings)
    {
        if (url.ApiSegments is not { } segments)
        {
            warnings.Add("The URL is not under /v2 of the Buildkite REST API, so Kiteflow cannot recognise the endpoint or check bodies.");
            return null;
        }

        var endpoint = EndpointCatalog.Buildkite.Match(settings.Method, segments);
        if (endpoint is null)
        {
            var others = EndpointCatalog.Buildkite.MatchPath(segments);
            warnings.Add(others.Count > 0
                ? $"{settings.Method} is not how Buildkite's {others[0].Id} is called: it takes {string.Join(" or ", others[0].Methods)}. Change the method."
                : $"Kiteflow does not recognise {settings.Method} {string.Join('/', segments.Select(s => s ?? "{…}"))} as a Buildkite endpoint; bodies are sent unchecked.");
            return null;
        }

        if (settings.ContentFormat != ContentFormat.Json && (endpoint.TakesBody || settings.Batching.Enabled))
        {
            warnings.Add($"Buildkite accepts JSON bodies only; {endpoint.Id} will refuse contentFormat {settings.ContentFormat.ToString().ToLowerInvariant()}. Use json.");
        }

        if (settings.Batching.Enabled && endpoint.OneObjectPerCall)
        {
            warnings.Add($"{endpoint.Id} takes one object per call: a batched body will be refused by Buildkite. Turn batching off. (Batched bodies are not checked against the endpoint.)");
        }
        else if (!endpoint.TakesBody && settings.Method != "DELETE")
        {
            warnings.Add($"{endpoint.Id} takes no body, so none is sent; records only fill the URL.");
        }

        return endpoint;
    }
}
