namespace Kiteflow.Storage;

/// <summary>One run of a destination: from an activation, resume or restart to the pause or stop that ended it.</summary>
/// <param name="Id">The run's id.</param>
/// <param name="DestinationId">The destination.</param>
/// <param name="StartedAt">When it began.</param>
/// <param name="Reason">Why it began: <c>activate</c>, <c>resume</c>, <c>restart</c> (the server started again).</param>
/// <param name="EndedAt">When it ended; null while it runs.</param>
/// <param name="EndReason">Why it ended: <c>pause</c>, <c>shutdown</c>, <c>error</c>…</param>
/// <param name="Counts">What it did.</param>
public sealed record DeliveryRunRow(long Id, long DestinationId, DateTimeOffset StartedAt, string Reason, DateTimeOffset? EndedAt, string? EndReason, DeliveryCounts Counts);
