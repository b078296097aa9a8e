namespace Kiteflow.Delivery.Outputs;

/// <summary>How a delivery run ended.</summary>
public enum DeliveryRunStatus
{
    /// <summary>The whole input was read and every record settled (delivered, rejected or possibly delivered).</summary>
    Completed,

    /// <summary>
    /// Stopped on request (a signal) before the end: the records not settled are pending, and running the same
    /// command again goes on with them.
    /// </summary>
    Stopped,

    /// <summary>
    /// Ended by an error: settings or arguments refused, the token refused or without the endpoint's scope, the
    /// input or the ledger unreadable. <see cref="DeliverySummary.Message"/> says which.
    /// </summary>
    Failed,
}
