namespace Kiteflow.Delivery;

/// <summary>A moment's view of a run, for progress displays.</summary>
/// <param name="Records">Records read so far.</param>
/// <param name="Delivered">Records delivered so far.</param>
/// <param name="Rejected">Records rejected so far.</param>
/// <param name="PossiblyDelivered">Records possibly delivered so far.</param>
/// <param name="Requests">API calls made so far.</param>
/// <param name="Retries">Attempts after the first so far.</param>
/// <param name="RateLimitWaits">Waits for a rate-limit window so far.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="InputFraction">How much of the input has been read (0–1), when its size is known.</param>
public sealed record DeliveryProgress(long Records, long Delivered, long Rejected, long PossiblyDelivered, long Requests, long Retries, long RateLimitWaits, TimeSpan Elapsed, double? InputFraction)
{
    /// <summary>Records settled (delivered, rejected or possibly delivered).</summary>
    public long Settled => Delivered + Rejected + PossiblyDelivered;

    /// <summary>Estimated time left, from how much of the input is read and settled; null when unknown.</summary>
    public TimeSpan? EstimatedRemaining
    {
        get
        {
            if (InputFraction is not { } read || read <= 0 || Records == 0)
            {
                return null;
            }

            // The share of the whole input settled so far: the input read, scaled by how much of what was read is done.
            var done = read * Settled / Records;
            return done <= 0 ? null : TimeSpan.FromTicks((long)(Elapsed.Ticks * (1 - done) / done));
        }
    }
}
