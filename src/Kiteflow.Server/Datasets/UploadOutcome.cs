namespace Kiteflow.Server.Datasets;

/// <summary>What an upload did.</summary>
internal sealed class UploadOutcome
{
    public long FirstOffset { get; set; }

    public long Appended { get; set; }

    public long Rejected { get; set; }

    public long RecordCount { get; set; }

    public List<Storage.NewReadRejection> Rejections { get; } = [];

    /// <summary>Why reading stopped early (the input as a whole is unreadable), after the records already appended.</summary>
    public string? Error { get; set; }
}

/// <summary>What an ingest request did.</summary>
internal sealed record IngestOutcome(Storage.AppendResult Result, int Rejected, IReadOnlyList<RejectionSummary> Rejections);

/// <summary>One read rejection as an answer shows it.</summary>
/// <param name="Line">The 1-based line of the body, when known.</param>
/// <param name="Item">The 0-based position of the item in the body.</param>
/// <param name="Message">Why it was not read.</param>
internal sealed record RejectionSummary(long? Line, long Item, string Message);
