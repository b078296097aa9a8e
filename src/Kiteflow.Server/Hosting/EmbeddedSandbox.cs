using Kiteflow.Sandbox;

namespace Kiteflow.Server.Hosting;

/// <summary>
/// The sandbox the server hosts, on a free loopback port of its own (see docs/architecture.md for why not under a
/// path of the server). Null <see cref="Server"/> while it is not started or turned off.
/// </summary>
public sealed class EmbeddedSandbox : IAsyncDisposable
{
    /// <summary>The name of the credential that points at it.</summary>
    public const string CredentialName = "sandbox";

    /// <summary>The running sandbox (tests set faults and read its state through it), or null.</summary>
    public SandboxServer? Server { get; private set; }

    internal async Task StartAsync(SandboxOptions options, CancellationToken cancellationToken)
    {
        options.Port = 0;
        Server = await SandboxServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Server is { } server)
        {
            Server = null;
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
