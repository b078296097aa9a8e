namespace Kiteflow.Core.Catalog;

/// <summary>
/// The outcome of checking one request body against an endpoint: the problems that would make Buildkite refuse it,
/// and the fields it does not know (Buildkite ignores those, so they do not make the body invalid).
/// </summary>
public sealed class BodyCheck
{
    private readonly EndpointDefinition? _endpoint;
    private IReadOnlyList<string>? _warnings;

    internal BodyCheck(IReadOnlyList<FieldProblem> errors, IReadOnlyList<string> unknownFields, EndpointDefinition? endpoint)
    {
        Errors = errors;
        UnknownFields = unknownFields;
        _endpoint = endpoint;
    }

    /// <summary>The result shared by every body that passes with no unknown field.</summary>
    internal static BodyCheck Passed { get; } = new([], [], null);

    /// <summary>True when nothing in the body would make Buildkite refuse it; unknown fields do not count.</summary>
    public bool IsValid => Errors.Count == 0;

    /// <summary>Every problem found, each naming its field and what to do.</summary>
    public IReadOnlyList<FieldProblem> Errors { get; }

    /// <summary>
    /// The paths of fields the endpoint does not know, dotted for nested objects (<c>author.emial</c>). Buildkite
    /// ignores them; the preview warns so a typo such as <c>brnach</c> is caught.
    /// </summary>
    public IReadOnlyList<string> UnknownFields { get; }

    /// <summary>
    /// One sentence per unknown field for the preview, with a "did you mean" suggestion when a known field's name is
    /// close. Computed on first use, off the planning hot path.
    /// </summary>
    public IReadOnlyList<string> Warnings => _warnings ??= BuildWarnings();

    private string[] BuildWarnings()
    {
        if (_endpoint is null || UnknownFields.Count == 0)
        {
            return [];
        }

        var warnings = new string[UnknownFields.Count];
        for (var i = 0; i < warnings.Length; i++)
        {
            warnings[i] = FieldNameSuggester.DescribeUnknown(_endpoint, UnknownFields[i]);
        }

        return warnings;
    }
}
