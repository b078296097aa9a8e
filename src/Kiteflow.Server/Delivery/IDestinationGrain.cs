namespace Kiteflow.Server.Delivery;

/// <summary>
/// One active destination, keyed by its id: Orleans keeps one activation in the whole cluster, and that activation
/// drives the destination's delivery. A reminder wakes it again after its silo is gone.
/// </summary>
public interface IDestinationGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Starts delivering (when it already does, wakes it to look for work: a retry, say); <paramref name="reason"/>
    /// names the run (activate, resume, restart); <paramref name="startCursor"/>, on a first activation, where in
    /// the dataset it begins.
    /// </summary>
    Task StartAsync(string reason, long? startCursor);

    /// <summary>Stops claiming records, lets calls in flight finish (bounded), and returns once it has stopped.</summary>
    Task StopAsync(string reason);

    /// <summary>
    /// Moves the destination to the silo <paramref name="to"/> once its grain is idle: the worker stops here as for a
    /// pause (its calls in flight answered and recorded, its lease released) and starts again there.
    /// </summary>
    Task MoveAsync(SiloAddress to);

    /// <summary>What the worker is doing now.</summary>
    Task<WorkerStatus> GetStatusAsync();
}
