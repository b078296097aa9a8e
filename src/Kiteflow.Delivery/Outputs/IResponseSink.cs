namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// Where response records go besides <c>--responses</c> and the forward URL: the server appends them to the
/// destination's response dataset. Called once per record, from any sender; keep it quick or buffer.
/// </summary>
public interface IResponseSink
{
    /// <summary>Takes one response record (SPEC §2.7), the same JSON object a <c>--responses</c> line holds.</summary>
    ValueTask WriteAsync(ResponseRecord record, CancellationToken cancellationToken);
}
