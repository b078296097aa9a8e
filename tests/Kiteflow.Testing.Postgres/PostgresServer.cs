using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Kiteflow.Testing.Postgres;

/// <summary>
/// A throwaway PostgreSQL server for tests: <c>initdb</c> into a fresh temp folder, <c>pg_ctl start</c> on a
/// free port of 127.0.0.1 (no other address, its Unix socket in the same folder), a superuser with a random
/// password (scram-sha-256), durability switched off for speed; <see cref="DisposeAsync"/> stops it and
/// deletes the folder. As root the server programs run as the <c>postgres</c> user through <c>runuser</c>
/// (PostgreSQL refuses to run as root). A server left behind by a killed test process is stopped by the
/// next <see cref="StartAsync"/> on the machine.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>The superuser the server is created with.</summary>
    public const string Superuser = "kiteflow";

    private const string FolderPrefix = "kiteflow-pg-";
    private const string ServiceUser = "postgres";

    private static int _databaseCounter;

    private readonly PostgresBinaries _binaries;
    private readonly bool _asRoot;
    private readonly NpgsqlDataSource _admin;
    private int _disposed;

    private PostgresServer(PostgresBinaries binaries, bool asRoot, string root, int port, string password)
    {
        _binaries = binaries;
        _asRoot = asRoot;
        RootDirectory = root;
        Port = port;
        Password = password;
        _admin = NpgsqlDataSource.Create(ConnectionStringFor("postgres"));
    }

    /// <summary>The temp folder that holds the data directory, the log and the socket.</summary>
    public string RootDirectory { get; }

    /// <summary>The data directory.</summary>
    public string DataDirectory => Path.Combine(RootDirectory, "data");

    /// <summary>The server's log file (read it when a test fails strangely).</summary>
    public string LogFile => Path.Combine(RootDirectory, "server.log");

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The superuser's password (random per server).</summary>
    public string Password { get; }

    /// <summary>The folder of the PostgreSQL programs in use.</summary>
    public string BinDirectory => _binaries.Directory;

    /// <summary>
    /// Creates and starts a server. Throws <see cref="InvalidOperationException"/> with the tool's output
    /// when PostgreSQL is missing or does not start.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The test PostgreSQL runs on Linux (and other Unix systems) only.");
        }

        var binaries = PostgresBinaries.Find();
        var asRoot = Environment.IsPrivilegedProcess;
        await ReapOrphansAsync(binaries, asRoot, cancellationToken).ConfigureAwait(false);

        var root = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"{FolderPrefix}{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}"));
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var password = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32);
            var passwordFile = Path.Combine(root, "pwfile");
            await File.WriteAllTextAsync(passwordFile, password + "\n", cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (asRoot)
            {
                await RunCheckedAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", root], root, "give the server's folder to the postgres user", cancellationToken).ConfigureAwait(false);
            }

            var data = Path.Combine(root, "data");
            await RunCheckedAsync(
                binaries.InitDb,
                ["-D", data, "-U", Superuser, "--pwfile", passwordFile, "--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C", "--no-sync", "--no-instructions"],
                root,
                "initdb",
                cancellationToken,
                asRoot).ConfigureAwait(false);
            File.Delete(passwordFile);

            // Throwaway data: durability off makes every commit cheap. The socket lives in our own folder so
            // the server needs nothing outside it.
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

                # Kiteflow test server
                listen_addresses = '127.0.0.1'
                unix_socket_directories = '{root}'
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                max_connections = 300
                shared_buffers = 32MB
                log_min_messages = warning
                """, cancellationToken).ConfigureAwait(false);

            // The free port can be taken between finding it and the server binding it: try a few.
            var log = Path.Combine(root, "server.log");
            for (var attempt = 1; ; attempt++)
            {
                var port = FreeLoopbackPort();
                var (exitCode, output) = await RunAsync(
                    binaries.PgCtl,
                    ["start", "-D", data, "-l", log, "-w", "-t", "120", "-o", $"-p {port}"],
                    root,
                    cancellationToken,
                    asRoot).ConfigureAwait(false);
                if (exitCode == 0)
                {
                    var server = new PostgresServer(binaries, asRoot, root, port, password);
                    await server.WaitUntilAcceptingAsync(cancellationToken).ConfigureAwait(false);
                    return server;
                }

                var serverLog = File.Exists(log) ? await File.ReadAllTextAsync(log, cancellationToken).ConfigureAwait(false) : string.Empty;
                if (attempt < 5 && serverLog.Contains("could not bind", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                throw new InvalidOperationException($"pg_ctl start failed (exit {exitCode}):\n{output}\n{serverLog}");
            }
        }
        catch
        {
            await StopAndDeleteAsync(binaries, asRoot, root).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>An Npgsql connection string (keyword form, password included) for <paramref name="database"/>.</summary>
    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Password = Password,
        Database = database,
    }.ConnectionString;

    /// <summary>A <c>postgres://</c> URI (password included) for <paramref name="database"/>.</summary>
    public string UriFor(string database) =>
        string.Create(CultureInfo.InvariantCulture, $"postgres://{Superuser}:{Uri.EscapeDataString(Password)}@127.0.0.1:{Port}/{Uri.EscapeDataString(database)}");

    /// <summary>Creates an empty database (a fresh name unless given) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        name ??= string.Create(CultureInfo.InvariantCulture, $"kf_test_{Interlocked.Increment(ref _databaseCounter)}_{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        await using var command = _admin.CreateCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"");
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return ConnectionStringFor(name);
    }

    /// <summary>Stops the server (fast shutdown: open sessions are ended) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _admin.DisposeAsync().ConfigureAwait(false);
        NpgsqlConnection.ClearAllPools();
        await StopAndDeleteAsync(_binaries, _asRoot, RootDirectory).ConfigureAwait(false);
    }

    private async Task WaitUntilAcceptingAsync(CancellationToken cancellationToken)
    {
        // pg_ctl -w returns once the server is ready; a first query proves the password and the port.
        await using var command = _admin.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task StopAndDeleteAsync(PostgresBinaries binaries, bool asRoot, string root)
    {
        var data = Path.Combine(root, "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var (exitCode, _) = await RunAsync(binaries.PgCtl, ["stop", "-D", data, "-m", "fast", "-w", "-t", "60"], Path.GetTempPath(), timeout.Token, asRoot).ConfigureAwait(false);
            if (exitCode != 0)
            {
                await RunAsync(binaries.PgCtl, ["stop", "-D", data, "-m", "immediate", "-w", "-t", "30"], Path.GetTempPath(), timeout.Token, asRoot).ConfigureAwait(false);
            }
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A folder left in the temp directory is reaped by the next start; never fail a test run for it.
        }
    }

    /// <summary>Stops servers whose test process died without stopping them, and deletes their folders.</summary>
    private static async Task ReapOrphansAsync(PostgresBinaries binaries, bool asRoot, CancellationToken cancellationToken)
    {
        foreach (var folder in Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var parts = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || IsAlive(pid))
            {
                continue;
            }

            await StopAndDeleteAsync(binaries, asRoot, folder).ConfigureAwait(false);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task RunCheckedAsync(string fileName, string[] arguments, string workingDirectory, string what, CancellationToken cancellationToken, bool asServiceUser = false)
    {
        var (exitCode, output) = await RunAsync(fileName, arguments, workingDirectory, cancellationToken, asServiceUser).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"Could not {what} for the test PostgreSQL (exit {exitCode}):\n{output}");
        }
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string fileName, string[] arguments, string workingDirectory, CancellationToken cancellationToken, bool asServiceUser = false) =>
        asServiceUser
            ? ProcessRunner.RunAsync("runuser", ["-u", ServiceUser, "--", fileName, .. arguments], workingDirectory, cancellationToken)
            : ProcessRunner.RunAsync(fileName, arguments, workingDirectory, cancellationToken);
}
