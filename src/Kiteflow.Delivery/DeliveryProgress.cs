namespace Kiteflow.Delivery;

/// <summary>A moment's view of a run, for progress displays.</summary>
/// <param name="Records">Records planned so far (read and handed to delivery, bad ones included).</param>
/// <param name="Delivered">Records delivered so far.</param>
/// <param name="Rejected">Records rejected so far.</param>
/// <param name="PossiblyDelivered">Records possibly delivered so far.</param>
/// <param name="Requests">API calls made so far.</param>
/// <param name="Retries">Attempts after the first so far.</param>
/// <param name="RateLimitWaits">Waits for a rate-limit window so far.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="RecordsFound">Records the reader has found so far; it reads ahead of planning.</param>
/// <param name="InputEnded">Whether the reader reached the end of the input, so <paramref name="RecordsFound"/> is the whole count.</param>
/// <param name="InputFraction">How much of the input the reader has read (0–1), when its size is known.</param>
public sealed record DeliveryProgress(long Records, long Delivered, long Rejected, long PossiblyDelivered, long Requests, long Retries, long RateLimitWaits, TimeSpan Elapsed, long RecordsFound, bool InputEnded, double? InputFraction)
{
    /// <summary>Records settled (delivered, rejected or possibly delivered).</summary>
    public long Settled => Delivered + Rejected + PossiblyDelivered;

    /// <summary>
    /// The number of records in the whole input: exact once the reader reached its end, otherwise estimated from
    /// the records found in the part of the input read so far; null when the input's size is unknown (a pipe).
    /// </summary>
    public long? TotalRecords
    {
        get
        {
            if (InputEnded)
            {
                return Math.Max(RecordsFound, Records);
            }

            if (InputFraction is not { } read || read <= 0 || RecordsFound == 0)
            {
                return null;
            }

            return Math.Max(Math.Max(RecordsFound, Records), (long)Math.Round(RecordsFound / read));
        }
    }

    /// <summary>Whether <see cref="TotalRecords"/> is an estimate.</summary>
    public bool TotalIsEstimate => !InputEnded;

    /// <summary>The share of the whole input settled so far (0–1); null when the total is unknown.</summary>
    public double? SettledFraction => TotalRecords switch
    {
        null => null,
        0 => 1,
        { } total => Math.Clamp(Settled / (double)total, 0, 1),
    };

    /// <summary>Estimated time left, from the pace at which records have settled so far; null when unknown.</summary>
    public TimeSpan? EstimatedRemaining
    {
        get
        {
            if (TotalRecords is not { } total || Settled <= 0)
            {
                return null;
            }

            var left = Math.Max(0, total - Settled);
            return TimeSpan.FromTicks((long)(Elapsed.Ticks * (double)left / Settled));
        }
    }
}
