using System.Text.Json;

namespace Kiteflow.Core.Catalog;

/// <summary>
/// One Buildkite REST endpoint Kiteflow knows: how to recognise it, the scope it needs, and what its body may hold.
/// </summary>
public sealed class EndpointDefinition
{
    private readonly PathTemplate[] _paths;
    private readonly string[] _methods;

    internal EndpointDefinition(
        string id,
        IReadOnlyList<string> methods,
        string path,
        string? scope,
        string summary,
        string noun,
        ObjectSchema? body,
        IReadOnlyList<string>? alternatePaths = null,
        IReadOnlyList<string>? aliases = null,
        IReadOnlyList<string>? notes = null)
    {
        if (methods.Count == 0)
        {
            throw new ArgumentException("An endpoint takes at least one method.", nameof(methods));
        }

        Id = id;
        _methods = [.. methods];
        Methods = _methods.AsReadOnly();
        Summary = summary;
        Scope = scope;
        Noun = noun;
        TakesBody = body is not null;
        Body = body ?? ObjectSchema.None;
        _paths = [new PathTemplate(path), .. (alternatePaths ?? []).Select(p => new PathTemplate(p))];
        Aliases = aliases ?? [];
        Notes = notes ?? [];
    }

    /// <summary>The catalog's name for the endpoint, e.g. <c>builds.create</c>.</summary>
    public string Id { get; }

    /// <summary>The method Buildkite documents, upper case, e.g. <c>POST</c>.</summary>
    public string Method => Methods[0];

    /// <summary>
    /// Every method the endpoint accepts, the documented one first. Some updates take both <c>PUT</c> (Buildkite's
    /// documentation) and <c>PATCH</c> (Buildkite's Go client).
    /// </summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>The path under <c>/v2</c>, with <c>{placeholders}</c>, e.g. <c>/organizations/{org}/pipelines/{pipeline}/builds</c>.</summary>
    public string PathTemplate => _paths[0].Text;

    /// <summary>The token scope the endpoint needs, e.g. <c>write_builds</c>, or null when it needs none.</summary>
    public string? Scope { get; }

    /// <summary>Whether the endpoint reads a JSON body. One that does not ignores any body sent to it.</summary>
    public bool TakesBody { get; }

    /// <summary>
    /// Whether a call carries one object (one build, one annotation...). Every Buildkite write endpoint does: a
    /// batched body (an array of records) is refused.
    /// </summary>
    public bool OneObjectPerCall => true;

    /// <summary>What the endpoint does, e.g. "Create a build".</summary>
    public string Summary { get; }

    /// <summary>
    /// Checks a request body: required fields, JSON types, allowed values and limits. Unknown fields do not make it
    /// invalid (Buildkite ignores them) but are listed so the preview can warn. A body that passes with no unknown
    /// field returns a shared result, so checking allocates nothing.
    /// </summary>
    /// <param name="body">The body as it would be sent; <c>default</c> when the request has no body.</param>
    /// <returns>The problems and unknown fields found.</returns>
    public BodyCheck CheckBody(JsonElement body) => BodyValidator.Check(this, body);

    /// <summary>Checks a record as the body it becomes: attributes under <paramref name="excluded"/> are not sent, so they are judged absent.</summary>
    internal BodyCheck CheckBody(JsonElement record, Shaping.ExclusionTree? excluded) => BodyValidator.Check(this, record, excluded);

    /// <summary>What one call carries, for messages: "build", "annotation", "pipeline".</summary>
    internal string Noun { get; }

    /// <summary>The fields of the body; <see cref="ObjectSchema.None"/> when the endpoint takes no body.</summary>
    internal ObjectSchema Body { get; }

    /// <summary>The documented path first, then equivalent routes (e.g. the build-scoped routes of job endpoints).</summary>
    internal IReadOnlyList<PathTemplate> Paths => _paths;

    /// <summary>Other names of this endpoint, e.g. the ids Buildkite's documentation examples use.</summary>
    internal IReadOnlyList<string> Aliases { get; }

    /// <summary>Facts a user should know before sending (permissions, differences from the docs, guesses).</summary>
    internal IReadOnlyList<string> Notes { get; }

    internal bool Accepts(string method)
    {
        foreach (var accepted in _methods)
        {
            if (string.Equals(accepted, method, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Id} ({Method} {PathTemplate})";
}
