namespace Kiteflow.Cli.Tests;

/// <summary>A fact about Unix file modes or signals: skipped, and shown as skipped, on Windows.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file modes and signals do not exist on Windows.";
        }
    }
}
