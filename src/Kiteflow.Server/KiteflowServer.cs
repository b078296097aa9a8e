using Kiteflow.Delivery.Credentials;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Credentials;
using Kiteflow.Server.Datasets;
using Kiteflow.Server.Delivery;
using Kiteflow.Server.Endpoints;
using Kiteflow.Server.Hosting;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Server.Ui;
using Kiteflow.Storage.Postgres.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Configuration;

namespace Kiteflow.Server;

/// <summary>
/// Builds the Kiteflow server: the REST API under <c>/api/v1</c>, ingest under <c>/ingest</c>, <c>/healthz</c>,
/// <c>/metrics</c>, <c>/openapi/v1.json</c> and the web UI (pages at <c>/</c>, assets under <c>/ui</c>), over one store. <c>kiteflow serve</c> and the tests start what this returns.
/// </summary>
public static class KiteflowServer
{
    /// <summary>The named <see cref="HttpClient"/> for calls to Buildkite (no redirects, 30 s timeout).</summary>
    public const string BuildkiteHttpClient = "buildkite";

    /// <summary>Builds the server (nothing listens until it is started).</summary>
    /// <param name="options">How; checked first.</param>
    /// <returns>The application: <c>StartAsync</c> migrates the store, creates the first user and starts the sandbox, then listens.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem, each naming its option.</exception>
    public static WebApplication Build(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = ServerOptionsValidator.Problems(options);
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid server options:" + Environment.NewLine + string.Join(Environment.NewLine, problems));
        }

        var paths = new ServerPaths(options);
        PrivateFiles.CreateDirectory(paths.DataDirectory);
        PrivateFiles.CreateDirectory(paths.SessionKeys);

        // The slim builder reads no appsettings or command line: the options are the configuration.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            EnvironmentName = Environments.Production,
            ApplicationName = "Kiteflow.Server",
            ContentRootPath = AppContext.BaseDirectory,
        });
        var urls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        builder.WebHost.UseUrls(urls);
        if (urls.Any(u => u.StartsWith("https:", StringComparison.OrdinalIgnoreCase)))
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));

        ConfigureLogging(builder);
        var identity = ConfigureOrleans(builder, options, paths);
        ConfigureServices(builder.Services, options, paths, identity);
        options.ConfigureBuilder?.Invoke(builder);

        var app = builder.Build();
        MapEndpoints(app, identity);
        return app;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder)
    {
        // Logs go to stderr, so that stdout carries only what scripts read: the address and the first password.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        // A failed start is reported by the caller in one line; the host would log it again with its stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning);
        builder.Logging.AddFilter("Kiteflow.Server.Security.ApiKeyAuthenticationHandler", LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);

        // Said on every start, nothing to act on: the watchdog's first check reports the time since the epoch as a
        // stall, and the silo recommends server GC (a choice for the whole process, left to the runtime's default).
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);

        // Each retry is counted in the destination's status and metrics; Polly's own line per attempt is noise.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
    }

    /// <summary>
    /// Active destinations and the rate-limit budgets live in Orleans grains (issues 9 and 11). On SQLite: one process, a
    /// silo of its own on loopback with in-memory reminders; the store brings the destinations back on every start. On
    /// PostgreSQL: a cluster — silos find each other in the store's membership table and keep their reminders there, so
    /// the destinations of a silo that died come back on another. An api silo hosts neither destination nor budget
    /// grains: Orleans places a grain only on silos that have its class, and the api silo's is taken out.
    /// </summary>
    private static SiloIdentity ConfigureOrleans(WebApplicationBuilder builder, ServerOptions options, ServerPaths paths)
    {
        var postgres = paths.Store.Postgres;
        var siloPort = options.SiloPort ?? (postgres is null ? FreeLoopbackPort() : KiteflowClusterOptions.DefaultSiloPort);
        // One process on SQLite: no client connects to its silo from outside, so no gateway (0 turns it off) — one port
        // fewer to find free and hold.
        var gatewayPort = options.GatewayPort ?? (postgres is null ? 0 : KiteflowClusterOptions.DefaultGatewayPort);
        var identity = new SiloIdentity(options.SiloName ?? $"{Environment.MachineName}:{siloPort}", options.Role, postgres is not null);
        builder.UseOrleans(silo =>
        {
            if (postgres is null)
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: KiteflowClusterOptions.DefaultId, clusterId: KiteflowClusterOptions.DefaultId);
                silo.UseInMemoryReminderService();
            }
            else
            {
                silo.UseKiteflowPostgresClustering(postgres, cluster =>
                {
                    cluster.SiloPort = siloPort;
                    cluster.GatewayPort = gatewayPort;
                    cluster.AdvertisedAddress = options.SiloAddress;
                });
                silo.UseKiteflowPostgresReminders(postgres);

                // A silo that stops answering is declared dead after MembershipMissedProbes missed probes (2 by default).
                // Not stretched while this silo feels degraded (a busy machine): fencing keeps a silo declared dead too
                // early from doing harm, and a destination waits for its silo's death before it delivers again.
                silo.Configure<ClusterMembershipOptions>(membership =>
                {
                    membership.ProbeTimeout = options.MembershipProbeTimeout;
                    membership.NumMissedProbesLimit = options.MembershipMissedProbes;
                    membership.ExtendProbeTimeoutDuringDegradation = false;
                });
            }

            silo.Configure<SiloOptions>(silo => silo.SiloName = identity.Name);
            if (!identity.HostsGrains)
            {
                // After Orleans' own provider has listed the assembly's grain classes.
                silo.Services.PostConfigure<GrainTypeOptions>(types =>
                {
                    types.Classes.Remove(typeof(DestinationGrain));
                    types.Classes.Remove(typeof(RateLimitBudgetGrain));
                });
            }
        });
        return identity;
    }

    /// <summary>
    /// <see cref="Build"/> and start. On SQLite, the silo's port is one found free just before; another process may take
    /// it before the silo binds it, so a start refused for that port is made again on another (three times at most).
    /// Ports the options name are never changed.
    /// </summary>
    /// <exception cref="ArgumentException">The options are not valid.</exception>
    public static async Task<WebApplication> StartAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        EnsureFree(options.SiloAddress, options.SiloPort, "--silo-port");
        EnsureFree(options.SiloAddress, options.GatewayPort, "--gateway-port");
        for (var attempt = 1; ; attempt++)
        {
            var app = Build(options);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                return app;
            }
            catch (Microsoft.AspNetCore.Connections.AddressInUseException) when (attempt < 3 && options.SiloPort is null && !IsPostgres(options))
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Refuses a silo or gateway port that a process on this machine listens on. Orleans binds its listeners with
    /// address and port reuse (.NET asks Linux for both), so a second silo given a running one's port would bind it as
    /// well — and the cluster, seeing one endpoint with a newer generation, would declare the running silo dead (a user
    /// trying the cluster lost a healthy worker that way). A bind that allows only address reuse (not a live listener's
    /// port, but a port whose old connections are still closing) says whether it is taken.
    /// </summary>
    private static void EnsureFree(System.Net.IPAddress? address, int? port, string option)
    {
        if (port is not > 0)
        {
            return;
        }

        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        if (OperatingSystem.IsLinux())
        {
            // SOL_SOCKET, SO_REUSEADDR (ReuseAddress through .NET would set SO_REUSEPORT too).
            probe.SetRawSocketOption(1, 2, BitConverter.GetBytes(1));
        }

        try
        {
            probe.Bind(new System.Net.IPEndPoint(address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } ? address : System.Net.IPAddress.Any, port.Value));
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            throw new Microsoft.AspNetCore.Connections.AddressInUseException($"{option}: port {port} is in use on this machine (another silo?); give a free port.", e);
        }
    }

    private static bool IsPostgres(ServerOptions options) =>
        options.Store is { } store && StoreLocation.TryParse(store, out var location, out _) && location.Postgres is not null;

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void ConfigureServices(IServiceCollection services, ServerOptions options, ServerPaths paths, SiloIdentity identity)
    {
        services.AddSingleton(options);
        services.AddSingleton(identity);
        services.AddSingleton(paths);
        services.AddSingleton(options.TimeProvider);
        services.AddSingleton(provider => paths.Store.Open(provider.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<KiteflowMetrics>();
        services.AddSingleton<IDatasetAppendSignal, DatasetAppendSignal>();
        services.AddSingleton<DatasetAppender>();
        services.AddSingleton<IAuditLog, AuditLog>();
        services.AddSingleton<ServerCredentials>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<EmbeddedSandbox>();
        services.AddSingleton<ExampleSeed>();
        services.AddHostedService<StartupTasks>();
        services.AddSingleton<DeliveryServices>();
        services.AddSingleton<DeliveryControl>();
        services.AddHostedService<DeliveryStartup>();
        services.AddSingleton<UiAssets>();
        if (identity.Clustered && identity.HostsGrains)
        {
            services.AddHostedService<ClusterWatcher>();
            services.AddHostedService<DestinationBalancer>();
        }

        services.ConfigureHttpJsonOptions(json => ServerJson.Configure(json.SerializerOptions));
        services.Configure<RouteHandlerOptions>(route => route.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store").AddCheck<ClusterHealthCheck>("cluster");
        services.AddOpenApi();
        services.AddHttpClient(BuildkiteHttpClient, client => client.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("kiteflow", serviceInstanceId: identity.Name).AddAttributes([new("kiteflow.silo", identity.Name), new("kiteflow.role", identity.RoleName)]))
            .WithMetrics(metrics => metrics
            .AddMeter(KiteflowMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());

        services.AddDataProtection().SetApplicationName("kiteflow").PersistKeysToFileSystem(new DirectoryInfo(paths.SessionKeys));
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = AuthSchemes.AntiforgeryHeader;
            antiforgery.Cookie.Name = "kiteflow_csrf";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthentication(AuthSchemes.Default)
            .AddPolicyScheme(AuthSchemes.Default, "Session cookie or API key", policy => policy.ForwardDefaultSelector = http =>
                http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? AuthSchemes.ApiKey : AuthSchemes.Session)
            .AddCookie(AuthSchemes.Session, cookie =>
            {
                cookie.Cookie.Name = "kiteflow_session";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = TimeSpan.FromHours(12);
                cookie.SlidingExpiration = true;

                // An API answers 401 and 403; it does not redirect to a login page.
                cookie.Events.OnRedirectToLogin = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                };
                cookie.Events.OnRedirectToAccessDenied = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                };
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AuthSchemes.ApiKey, null);

        // Every endpoint needs a login unless it says otherwise (/healthz, logging in, ingest).
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
    }

    private static void MapEndpoints(WebApplication app, SiloIdentity identity)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync }).AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics");
        if (!identity.ServesApi)
        {
            // A worker hosts grains only: no API, UI or ingest.
            return;
        }

        var api = app.MapGroup("/api/v1").AddEndpointFilter<AntiforgeryFilter>();
        SessionEndpoints.Map(api);
        ApiKeyEndpoints.Map(api);
        DatasetEndpoints.Map(api);
        CredentialEndpoints.Map(api);
        DestinationEndpoints.Map(api);
        DestinationDeliveryEndpoints.Map(api);
        DestinationPreviewEndpoints.Map(api);
        AuditEndpoints.Map(api);
        CatalogEndpoints.Map(api);
        IngestEndpoints.Map(app);
        app.MapOpenApi();
        UiEndpoints.Map(app);
    }
}
