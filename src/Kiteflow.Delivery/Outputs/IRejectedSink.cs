namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// Where records that were not delivered go besides <c>--rejected</c>: the server keeps them per destination,
/// to be listed and retried. Called once per record, from any thread.
/// </summary>
public interface IRejectedSink
{
    /// <summary>Takes one record that was not delivered, with the reason.</summary>
    void Write(RejectedRecord record);
}
