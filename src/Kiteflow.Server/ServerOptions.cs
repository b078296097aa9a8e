using Kiteflow.Sandbox;

namespace Kiteflow.Server;

/// <summary>How <see cref="KiteflowServer.Build"/> sets up the server. Every property has a working default.</summary>
public sealed class ServerOptions
{
    /// <summary>The address(es) to listen on, separated by <c>;</c>. Default <c>http://127.0.0.1:5080</c>; port 0 picks a free one.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>
    /// The folder for the store, the master key file and the session keys; null (the default) uses Kiteflow's data
    /// folder: <c>KITEFLOW_HOME</c>, else <c>$XDG_DATA_HOME/kiteflow</c>, else <c>~/.local/share/kiteflow</c>.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The store: <c>sqlite:PATH</c> or <c>postgres://USER:PASSWORD@HOST:PORT/DATABASE</c> (also <c>postgresql://</c>, with
    /// libpq's query parameters such as <c>?sslmode=require</c>); null (the default) is <c>sqlite:{DataDirectory}/kiteflow.db</c>.
    /// The password is never printed: logs, errors and <c>/healthz</c> show <c>postgres://USER@HOST:PORT/DATABASE</c>.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>The first user's password (from <c>KITEFLOW_ADMIN_PASSWORD</c>); null (the default) generates one and prints it once.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>The master key as base64 of 32 bytes (from <c>KITEFLOW_MASTER_KEY</c>); null (the default) uses the key file in the data folder.</summary>
    public string? MasterKey { get; set; }

    /// <summary>Where the one-time password is printed on first start. Default: standard output.</summary>
    public TextWriter? Output { get; set; }

    /// <summary>Whether the server hosts a sandbox and keeps a <c>sandbox</c> credential pointing at it. Default true.</summary>
    public bool EmbeddedSandbox { get; set; } = true;

    /// <summary>
    /// Whether to add the seeded example (<c>kiteflow serve --example</c>) when the store has no dataset yet: the dataset
    /// <c>release-train</c> and the draft destinations <c>trigger-builds</c> and <c>annotate-from-responses</c> on the
    /// <c>sandbox</c> credential (needs <see cref="EmbeddedSandbox"/>). Default false.
    /// </summary>
    public bool SeedExample { get; set; }

    /// <summary>How the embedded sandbox starts (rate limits, faults). Its port is always a free loopback one.</summary>
    public SandboxOptions Sandbox { get; set; } = new();

    /// <summary>Failed logins allowed per user name within <see cref="LoginWindow"/>. Default 5.</summary>
    public int LoginFailuresPerUser { get; set; } = 5;

    /// <summary>Failed logins allowed per client address within <see cref="LoginWindow"/>. Default 20.</summary>
    public int LoginFailuresPerAddress { get; set; } = 20;

    /// <summary>The window the failed-login limits count in. Default 15 minutes.</summary>
    public TimeSpan LoginWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The largest ingest request body. Default 16 MiB (uploads have no limit: they are streamed).</summary>
    public long IngestMaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>How many records an upload appends per transaction. Default 5,000.</summary>
    public int UploadBatchRecords { get; set; } = 5_000;

    /// <summary>
    /// The Orleans silo's port (<c>--silo-port</c>); null for a free loopback one on SQLite, and Orleans' 11111 on PostgreSQL,
    /// where the silos of one cluster must reach each other.
    /// </summary>
    public int? SiloPort { get; set; }

    /// <summary>The Orleans gateway's port (<c>--gateway-port</c>); null for a free loopback one on SQLite, and 30000 on PostgreSQL.</summary>
    public int? GatewayPort { get; set; }

    /// <summary>
    /// The address this silo publishes to the others (<c>--silo-address</c>), on PostgreSQL; null lets Orleans pick this
    /// host's address. Silos on one machine can use 127.0.0.1.
    /// </summary>
    public System.Net.IPAddress? SiloAddress { get; set; }

    /// <summary>The silo's name in the cluster, in <c>/healthz</c> and on the metrics (<c>--silo-name</c>); null is host:silo-port.</summary>
    public string? SiloName { get; set; }

    /// <summary>What this process does in its cluster (<c>--role</c>); api and worker need a PostgreSQL store. Default all.</summary>
    public ServerRole Role { get; set; } = ServerRole.All;

    /// <summary>
    /// In a cluster (PostgreSQL), the period and timeout of the silos' liveness probes: a silo that misses
    /// <see cref="MembershipMissedProbes"/> in a row is suspected, and declared dead once two silos suspect it (or the
    /// only other one does); its destinations then come back on another silo. Default 3 s.
    /// </summary>
    public TimeSpan MembershipProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How many probes in a row a silo misses before another suspects it. Default 2 (Orleans' own is 3): a killed worker
    /// is declared dead 3–6 s after it died rather than 6–9 s, and a silo declared dead too early (a stall of 6 s or
    /// more) can do no harm — its writes are fenced and its lease stops its requests — it only restarts.
    /// </summary>
    public int MembershipMissedProbes { get; set; } = 2;

    /// <summary>
    /// How long a destination worker's lease on its destination runs unless renewed (every quarter of it). A worker that
    /// cannot renew it — paused, cut off from the store — sends nothing once it ran out, and a worker that takes the
    /// destination over after a crash waits out what was left of it. Default 6 s: no longer than a dead silo takes to be
    /// declared dead with the default probes, so the lease has mostly run out by then.
    /// </summary>
    public TimeSpan DeliveryLease { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// In a cluster, how often each silo that hosts destinations looks whether it has more than its even share of the
    /// active destinations and moves the rest to silos with fewer (it also looks when a silo joins). Default 30 s.
    /// </summary>
    public TimeSpan RebalanceInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a destination worker also looks in the store for records appended by another process (api silos ingest). Default 1 s.</summary>
    public TimeSpan AppendPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>When a destination is paused (or the server stops), how long its calls in flight get to be answered before they are cut. Default 10 s.</summary>
    public TimeSpan DeliveryStopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock for timestamps. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Reads environment variables (for the data folder's default); default the process environment.</summary>
    public Func<string, string?> Environment { get; set; } = System.Environment.GetEnvironmentVariable;

    /// <summary>Last changes to the builder before it is built (tests add a log capture here). Null by default.</summary>
    public Action<WebApplicationBuilder>? ConfigureBuilder { get; set; }
}
