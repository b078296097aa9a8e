namespace Kiteflow.Core.Records;

/// <summary>
/// The input as a whole cannot be read (missing file, a CSV header that cannot build records, a JSON
/// file that is not an array). Problems with single records are rejections, never this exception.
/// </summary>
public sealed class InputException : Exception
{
    /// <summary>Creates the exception with a message that says what is wrong and what to do.</summary>
    public InputException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public InputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
