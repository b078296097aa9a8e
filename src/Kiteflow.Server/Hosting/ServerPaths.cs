using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Server.Hosting;

/// <summary>Where the server keeps its files, resolved once from the options.</summary>
internal sealed class ServerPaths
{
    public ServerPaths(ServerOptions options)
    {
        DataDirectory = Path.GetFullPath(options.DataDirectory ?? CredentialStore.DefaultDirectory(options.Environment));
        StorePath = options.Store is { } store ? Path.GetFullPath(store["sqlite:".Length..]) : Path.Combine(DataDirectory, "kiteflow.db");
        KeyFile = Path.Combine(DataDirectory, CredentialStore.KeyFileName);
        SessionKeys = Path.Combine(DataDirectory, "session-keys");
    }

    /// <summary>The data folder (0700).</summary>
    public string DataDirectory { get; }

    /// <summary>The SQLite file.</summary>
    public string StorePath { get; }

    /// <summary>The master key file, shared with <c>kiteflow credentials</c>.</summary>
    public string KeyFile { get; }

    /// <summary>The ASP.NET Core data-protection keys that sign session cookies and antiforgery tokens.</summary>
    public string SessionKeys { get; }
}
