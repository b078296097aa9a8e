namespace Kiteflow.Core.Records;

/// <summary>Limits every reader enforces on untrusted input (SPEC §5).</summary>
public sealed class ReaderLimits
{
    /// <summary>The limits Kiteflow uses unless told otherwise: 10 MiB per record, nesting up to 64 levels.</summary>
    public static ReaderLimits Default { get; } = new();

    /// <summary>The largest record accepted, in bytes of its text. Default 10 MiB.</summary>
    public int MaxRecordBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>The deepest nesting of objects and arrays accepted. Default 64.</summary>
    public int MaxDepth { get; init; } = 64;
}
