namespace Kiteflow.Server.Tests;

/// <summary>A fact about signals (SIGTERM, SIGKILL) sent to a real process: skipped, and shown as skipped, on Windows.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "POSIX signals do not exist on Windows.";
        }
    }
}
