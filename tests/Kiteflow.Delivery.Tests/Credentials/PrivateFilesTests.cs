using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Delivery.Tests.Credentials;

public sealed class PrivateFilesTests
{
    /// <summary>
    /// <c>--responses /dev/null</c> must not narrow the device: as root that leaves /dev/null 0600 and breaks every
    /// other user's processes (PostgreSQL's initdb, for one). .NET reads /dev/null as a seekable "normal" file.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Open_DevNull_LeavesTheDeviceAsItIs()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var before = File.GetUnixFileMode("/dev/null");
        try
        {
            using (PrivateFiles.Open("/dev/null", FileMode.OpenOrCreate))
            {
            }

            PrivateFiles.NarrowIfExists("/dev/null");

            Assert.Equal(before, File.GetUnixFileMode("/dev/null"));
        }
        finally
        {
            // Should the check ever fail, the machine gets its device back.
            File.SetUnixFileMode("/dev/null", before);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Open_ExistingFileOthersMayRead_NarrowedToItsOwner()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var path = Path.Combine(Path.GetTempPath(), "kiteflow-private-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, "x");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            using (PrivateFiles.Open(path, FileMode.Append))
            {
            }

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
