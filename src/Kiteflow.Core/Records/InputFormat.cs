namespace Kiteflow.Core.Records;

/// <summary>The shapes of input Kiteflow reads records from.</summary>
public enum InputFormat
{
    /// <summary>One JSON array whose items are the records.</summary>
    JsonArray,

    /// <summary>One JSON object per line; blank lines are skipped.</summary>
    JsonLines,

    /// <summary>A header row, then one record per row; dotted headers build nested objects.</summary>
    Csv,

    /// <summary>A file written by <c>send --rejected</c>: JSON Lines whose <c>data</c> is the record (or, for a record that could not be read, its text).</summary>
    Rejected,
}
