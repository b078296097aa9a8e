namespace Kiteflow.Core.Planning;

/// <summary>Why a preview stopped planning.</summary>
internal enum PreviewStop
{
    /// <summary>The input ended: everything was planned.</summary>
    InputEnded,

    /// <summary>The requests asked for were planned.</summary>
    Requests,

    /// <summary>So many records were rejected that reading on would only show more of the same.</summary>
    Rejections,
}
