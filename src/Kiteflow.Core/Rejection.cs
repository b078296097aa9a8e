namespace Kiteflow.Core;

/// <summary>The stage of the record's journey at which it was refused.</summary>
public enum RejectionStage
{
    /// <summary>The input could not be read as a record (bad JSON, not an object, too deep, too big, bad UTF-8, bad CSV row).</summary>
    Read,

    /// <summary>The URL, a header or the body template could not be filled from the record.</summary>
    Template,

    /// <summary>The body does not satisfy the endpoint (or the batch limits) before anything is sent.</summary>
    Validate,

    /// <summary>The batching script failed or exceeded a limit.</summary>
    Script,

    /// <summary>Buildkite refused the call (a 4xx other than 429).</summary>
    Http,
}

/// <summary>
/// A record that will not be (or was not) delivered, and why. A rejection is a value that flows to
/// the output, never an exception that stops the run.
/// </summary>
/// <param name="Record">The record's 0-based position in the input.</param>
/// <param name="Line">The 1-based line of the input the record starts on, when known.</param>
/// <param name="Stage">Where the record was refused.</param>
/// <param name="Message">What went wrong and, where it helps, what to do.</param>
public sealed record Rejection(long Record, long? Line, RejectionStage Stage, string Message)
{
    /// <summary>The record as read (compact JSON), when it could be read.</summary>
    public string? RecordJson { get; init; }

    /// <summary>
    /// For a read rejection: the item's text as it stood in the input (invalid UTF-8 replaced by U+FFFD),
    /// so it can be repaired and sent again; null when the item was too large to keep.
    /// </summary>
    public string? OriginalText { get; init; }

    /// <summary>The HTTP status Buildkite answered, for <see cref="RejectionStage.Http"/>.</summary>
    public int? Status { get; init; }

    /// <summary>Buildkite's response body (JSON text), for <see cref="RejectionStage.Http"/>.</summary>
    public string? Response { get; init; }

    /// <summary>The stage as written in output files: <c>read</c>, <c>template</c>, <c>validate</c>, <c>script</c>, <c>http</c>.</summary>
    public string StageName => StageNames.Of(Stage);
}

/// <summary>The lower-case names of <see cref="RejectionStage"/> used in every output.</summary>
public static class StageNames
{
    /// <summary>The output name of <paramref name="stage"/>.</summary>
    public static string Of(RejectionStage stage) => stage switch
    {
        RejectionStage.Read => "read",
        RejectionStage.Template => "template",
        RejectionStage.Validate => "validate",
        RejectionStage.Script => "script",
        RejectionStage.Http => "http",
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, null),
    };
}
