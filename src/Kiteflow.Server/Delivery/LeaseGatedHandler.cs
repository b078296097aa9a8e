namespace Kiteflow.Server.Delivery;

/// <summary>
/// Sends over the connections every destination shares, and — for a destination's worker — only while the worker's
/// lease is valid: a request waits for the lease to be renewed, and never leaves once the destination was acquired by
/// another writer. This is the last point before a request leaves the process, so a silo that was paused (SIGSTOP)
/// past its lease sends nothing when it resumes. The shared connections are not disposed with it.
/// </summary>
internal sealed class LeaseGatedHandler(HttpMessageHandler connections, DestinationLease? lease) : HttpMessageHandler
{
    private readonly HttpMessageInvoker _connections = new(connections, disposeHandler: false);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (lease is not null)
        {
            await lease.WaitUntilValidAsync(cancellationToken).ConfigureAwait(false);
        }

        return await _connections.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _connections.Dispose();
        }

        base.Dispose(disposing);
    }
}
