namespace Kiteflow.Server.Tests.Hosting;

/// <summary>The cluster's options of <c>kiteflow serve</c> (--role, --silo-port, --gateway-port, --silo-name), checked before anything starts.</summary>
public sealed class ClusterOptionsTests
{
    [Fact]
    public void Build_ClusterSettingsThatCannotWork_ListsEveryProblemByOption()
    {
        var invalid = Assert.Throws<ArgumentException>(() => KiteflowServer.Build(new ServerOptions
        {
            Role = ServerRole.Worker,
            SiloPort = 70000,
            GatewayPort = 0,
            SiloName = " ",
            DataDirectory = Path.GetTempPath(),
            Environment = _ => null,
        }));

        Assert.Contains("--role: worker is a role in a cluster, which needs a PostgreSQL store", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("--silo-port: 70000 is not a TCP port", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("--gateway-port: 0 is not a TCP port", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("--silo-name:", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SamePortForSiloAndGateway_IsRefused()
    {
        var invalid = Assert.Throws<ArgumentException>(() => KiteflowServer.Build(new ServerOptions { SiloPort = 21000, GatewayPort = 21000, DataDirectory = Path.GetTempPath(), Environment = _ => null }));

        Assert.Contains("--gateway-port: 21000 is also the silo port", invalid.Message, StringComparison.Ordinal);
    }
}
