using System.Runtime.InteropServices;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM during a delivery. The first asks for a graceful stop (<see cref="Stopping"/>): no
/// new batch is claimed, the requests in flight are answered (for up to the grace period), the summary is written.
/// The second aborts (<see cref="Aborting"/>): requests in flight are cut and stay in flight in the ledger. A third
/// is left to the runtime, which ends the process at once.
/// </summary>
/// <remarks>
/// System.CommandLine's own handling (<c>ProcessTerminationTimeout</c>) knows one stage only: it cancels the
/// command's token at the first signal — which would cut the requests in flight, leaving them possibly delivered —
/// and ends the process after a fixed timeout with 130/143 whatever the command is doing. The commands that use
/// this class turn it off (<see cref="KiteflowCommandLine.HandlesSignals"/>) and register with
/// <see cref="PosixSignalRegistration"/> directly, which works the same on Linux, macOS and Windows (Ctrl+C).
/// </remarks>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly TextWriter _error;
    private readonly TimeSpan _grace;
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    private StopSignals(TextWriter error, TimeSpan grace)
    {
        _error = error;
        _grace = grace;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Set at the first signal: stop claiming work and let the calls in flight finish.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Set at the second signal: stop at once.</summary>
    public CancellationToken Aborting => _abort.Token;

    /// <summary>Starts listening; <paramref name="grace"/> is only said in the message at the first signal.</summary>
    public static StopSignals Register(TextWriter error, TimeSpan grace) => new(error, grace);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
        _abort.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        var name = context.Signal == PosixSignal.SIGINT ? "Ctrl+C" : context.Signal.ToString();
        switch (Interlocked.Increment(ref _received))
        {
            case 1:
                context.Cancel = true;
                _error.WriteLine($"kiteflow: {name}: stopping — no new requests; those in flight get up to {_grace.TotalSeconds:0} s to be answered, then the summary is written. Press Ctrl+C again (or send SIGTERM again) to stop at once.");
                Cancel(_stop);
                break;
            case 2:
                context.Cancel = true;
                _error.WriteLine($"kiteflow: {name} again: stopping at once. Requests in flight stay in flight in the ledger; the next run settles them before anything is resent.");
                Cancel(_abort);
                break;
            default:
                // A third signal: the runtime's default handling ends the process now.
                break;
        }
    }

    /// <summary>Cancels off the signal thread, so the run's callbacks never hold it.</summary>
    private static void Cancel(CancellationTokenSource source) => ThreadPool.QueueUserWorkItem(static s =>
    {
        try
        {
            s.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command finished meanwhile.
        }
    }, source, preferLocal: false);
}
