namespace Kiteflow.Delivery.Tests.Credentials;

/// <summary>A fact about Unix file modes: skipped, and shown as skipped, on Windows.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file modes do not exist on Windows.";
        }
    }
}
