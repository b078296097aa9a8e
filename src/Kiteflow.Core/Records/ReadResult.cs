namespace Kiteflow.Core.Records;

/// <summary>What reading one item of the input produced: a record, or the reason it is not one.</summary>
public readonly struct ReadResult
{
    private ReadResult(SourceRecord? record, Rejection? rejection)
    {
        Record = record;
        Rejection = rejection;
    }

    /// <summary>The record, when the item could be read.</summary>
    public SourceRecord? Record { get; }

    /// <summary>Why the item is not a record, when it could not be read.</summary>
    public Rejection? Rejection { get; }

    internal static ReadResult Of(SourceRecord record) => new(record, null);

    internal static ReadResult Of(Rejection rejection) => new(null, rejection);
}
