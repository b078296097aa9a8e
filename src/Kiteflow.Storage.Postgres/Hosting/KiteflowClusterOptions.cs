using System.Net;

namespace Kiteflow.Storage.Postgres.Hosting;

/// <summary>How a Kiteflow silo joins its cluster: identity and ports.</summary>
public sealed class KiteflowClusterOptions
{
    /// <summary>The default <see cref="ClusterId"/> and <see cref="ServiceId"/>.</summary>
    public const string DefaultId = "kiteflow";

    /// <summary>The default <see cref="SiloPort"/> (Orleans' own default).</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>The default <see cref="GatewayPort"/> (Orleans' own default).</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>
    /// The cluster's id: silos with the same id in the same database form one cluster. Default "kiteflow".
    /// </summary>
    public string ClusterId { get; set; } = DefaultId;

    /// <summary>
    /// The service's id, which outlives redeployments of the cluster; reminders belong to it. Default "kiteflow".
    /// </summary>
    public string ServiceId { get; set; } = DefaultId;

    /// <summary>The TCP port for silo-to-silo traffic (<c>--silo-port</c>). Default 11111.</summary>
    public int SiloPort { get; set; } = DefaultSiloPort;

    /// <summary>The TCP port Orleans clients connect to; 0 runs the silo without a gateway. Default 30000.</summary>
    public int GatewayPort { get; set; } = DefaultGatewayPort;

    /// <summary>
    /// The address the silo publishes in the membership table, which the other silos must reach. Default
    /// null: Orleans picks this host's address. Use <see cref="IPAddress.Loopback"/> for silos on one machine.
    /// </summary>
    public IPAddress? AdvertisedAddress { get; set; }

    /// <summary>Listen on every address of the host instead of the advertised one only. Default false.</summary>
    public bool ListenOnAnyHostAddress { get; set; }

    /// <summary>Every problem with these settings, each naming its setting, the bad value and what to do.</summary>
    public IReadOnlyList<string> Validate(bool forClient = false)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            problems.Add($"{nameof(ClusterId)} is empty: give the cluster a name (silos with the same one form a cluster)");
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            problems.Add($"{nameof(ServiceId)} is empty: give the service a name (reminders belong to it)");
        }

        if (forClient)
        {
            return problems;
        }

        if (SiloPort is < 1 or > 65535)
        {
            problems.Add($"{nameof(SiloPort)} is {SiloPort}: use a TCP port from 1 to 65535");
        }

        if (GatewayPort is < 0 or > 65535)
        {
            problems.Add($"{nameof(GatewayPort)} is {GatewayPort}: use a TCP port from 1 to 65535, or 0 for no gateway");
        }
        else if (GatewayPort == SiloPort)
        {
            problems.Add($"{nameof(GatewayPort)} is {GatewayPort}, the same as {nameof(SiloPort)}: the two need different ports");
        }

        return problems;
    }
}
