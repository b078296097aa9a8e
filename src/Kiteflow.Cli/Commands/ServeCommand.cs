using System.CommandLine;
using Kiteflow.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow serve</c>: runs the server until SIGINT or SIGTERM (in-flight requests finish, then it exits 0).
/// On stdout: the one-time password on the first start, then <c>Kiteflow is listening on URL</c> per address.
/// </summary>
internal static class ServeCommand
{
    public const string AdminPasswordVariable = "KITEFLOW_ADMIN_PASSWORD";

    /// <summary>The store when <c>--store</c> is not given: keeps a PostgreSQL password out of the command line (and <c>ps</c>).</summary>
    public const string StoreVariable = "KITEFLOW_STORE";

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen, e.g. http://127.0.0.1:5080 (the default); several separated by ';'.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var data = new Option<DirectoryInfo?>("--data") { Description = "The data folder (store, master key, session keys). Default: KITEFLOW_HOME, else $XDG_DATA_HOME/kiteflow, else ~/.local/share/kiteflow." };
        var store = new Option<string?>("--store") { Description = $"The store: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE. Default: {StoreVariable}, else sqlite:{{data folder}}/kiteflow.db. The password is never printed." };
        var example = new Option<bool>("--example")
        {
            Description = "On a store without datasets, add the seeded example: the dataset release-train and two draft destinations on the sandbox credential — trigger-builds (a build per record, responses into trigger-builds-responses) and annotate-from-responses (an annotation per build). Activate the first, then the second.",
        };
        var role = new Option<ServerRole>("--role")
        {
            Description = "What this process does in a cluster on PostgreSQL: all (the default), api (REST API, UI and ingest; no destination runs here) or worker (destinations only; HTTP just /healthz and /metrics).",
            DefaultValueFactory = _ => ServerRole.All,
        };
        var siloPort = new Option<int?>("--silo-port") { Description = "The Orleans silo port, which the other silos connect to. Default: 11111 on PostgreSQL, a free loopback port on SQLite." };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = "The Orleans gateway port. Default: 30000 on PostgreSQL, a free loopback port on SQLite." };
        var siloAddress = new Option<string?>("--silo-address") { Description = "The IP address this silo publishes to the others (PostgreSQL). Default: this host's address; 127.0.0.1 for silos on one machine." };
        var siloName = new Option<string?>("--silo-name") { Description = "The silo's name in /healthz, the metrics and the destinations' status. Default: host:silo-port." };
        var command = new Command("serve", "Run the Kiteflow server: the web UI and the REST API for datasets, HTTP ingest, credentials, destinations and the audit log, with an embedded sandbox.")
        {
            urls, data, store, example, role, siloPort, gatewayPort, siloAddress, siloName,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            System.Net.IPAddress? address = null;
            if (parseResult.GetValue(siloAddress) is { } addressText && !System.Net.IPAddress.TryParse(addressText, out address))
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"kiteflow: --silo-address: '{addressText}' is not an IP address; give one the other silos reach, e.g. 10.0.0.5 or 127.0.0.1.");
                return ExitCodes.InvalidSettings;
            }

            var options = new ServerOptions
            {
                Urls = parseResult.GetValue(urls)!,
                DataDirectory = parseResult.GetValue(data)?.FullName,
                Store = parseResult.GetValue(store) ?? NullIfEmpty(Environment.GetEnvironmentVariable(StoreVariable)),
                SeedExample = parseResult.GetValue(example),
                AdminPassword = Environment.GetEnvironmentVariable(AdminPasswordVariable),
                MasterKey = Environment.GetEnvironmentVariable("KITEFLOW_MASTER_KEY"),
                Output = parseResult.InvocationConfiguration.Output,
                Role = parseResult.GetValue(role),
                SiloPort = parseResult.GetValue(siloPort),
                GatewayPort = parseResult.GetValue(gatewayPort),
                SiloAddress = address,
                SiloName = parseResult.GetValue(siloName),
            };
            return await RunAsync(options, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static async Task<int> RunAsync(ServerOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (options.DataDirectory is { } folder && File.Exists(folder))
        {
            error.WriteLine($"kiteflow: --data: '{CommonOptions.Shown(folder)}' is a file; give a folder (the server keeps its store, master key and session keys there).");
            return ExitCodes.InvalidSettings;
        }

        WebApplication app;
        try
        {
            app = await KiteflowServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"kiteflow: {e.Message}");
            return ExitCodes.InvalidSettings;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or Storage.StoreException or System.Data.Common.DbException or Delivery.Credentials.CredentialException or InvalidOperationException)
        {
            error.WriteLine($"kiteflow: the server could not start: {e.Message}");
            return ExitCodes.Error;
        }

        await using (app.ConfigureAwait(false))
        {
            foreach (var url in app.Urls)
            {
                output.WriteLine(options.Role == ServerRole.Worker
                    ? $"Kiteflow is listening on {url}  (a worker silo: /healthz and /metrics only)"
                    : $"Kiteflow is listening on {url}  (open it in a browser for the web UI; API under {url.TrimEnd('/')}/api/v1, OpenAPI at /openapi/v1.json)");
            }

            output.Flush();

            // The host's console lifetime takes SIGINT and SIGTERM (System.CommandLine's handling is off for serve, see
            // KiteflowCommandLine.HandlesSignals): it stops taking requests, lets those in flight and the calls of active
            // destinations finish, then this returns.
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
