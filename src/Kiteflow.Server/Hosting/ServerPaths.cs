using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Server.Hosting;

/// <summary>Where the server keeps its files, resolved once from the options.</summary>
internal sealed class ServerPaths
{
    public ServerPaths(ServerOptions options)
    {
        DataDirectory = Path.GetFullPath(options.DataDirectory ?? CredentialStore.DefaultDirectory(options.Environment));
        Store = options.Store is { } store
            ? StoreLocation.TryParse(store, out var location, out var problem) ? location : throw new ArgumentException(problem, nameof(options))
            : StoreLocation.Default(DataDirectory);
        KeyFile = Path.Combine(DataDirectory, CredentialStore.KeyFileName);
        SessionKeys = Path.Combine(DataDirectory, "session-keys");
    }

    /// <summary>The data folder (0700).</summary>
    public string DataDirectory { get; }

    /// <summary>The store: a SQLite file (by default in the data folder) or a PostgreSQL database.</summary>
    public StoreLocation Store { get; }

    /// <summary>The master key file, shared with <c>kiteflow credentials</c>.</summary>
    public string KeyFile { get; }

    /// <summary>The ASP.NET Core data-protection keys that sign session cookies and antiforgery tokens.</summary>
    public string SessionKeys { get; }
}
