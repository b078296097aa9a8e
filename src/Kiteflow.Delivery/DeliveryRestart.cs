namespace Kiteflow.Delivery;

/// <summary>What a run does with what an earlier run of the same command recorded in the ledger.</summary>
public enum DeliveryRestart
{
    /// <summary>Resume: settled records are not sent again, pending ones are sent, in-flight ones settled first.</summary>
    None,

    /// <summary>
    /// Send again every record not delivered: rejected and possibly delivered batches are reopened (a possibly
    /// delivered create-build is looked up by its delivery id before it is sent). Delivered ones stay delivered.
    /// </summary>
    NotDelivered,

    /// <summary>
    /// Send every record again, delivered ones included (for create-build: their builds are triggered a second
    /// time). The earlier entries are kept as history and the delivery ids get a new generation.
    /// </summary>
    Everything,
}
