using System.Net.Sockets;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Tests.Testing;

/// <summary>The throwaway server other test projects rely on: loopback only, password required, gone afterwards.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PostgresServerTests
{
    [Fact]
    public async Task StartAsync_ServesOnLoopbackWithAPassword_AndDisposeStopsItAndDeletesItsFolder()
    {
        using var timeout = new CancellationTokenSource(PostgresServerFixture.StartTimeout);
        var server = await PostgresServer.StartAsync(timeout.Token);
        string root;
        int port;
        await using (server)
        {
            root = server.RootDirectory;
            port = server.Port;
            await using var data = NpgsqlDataSource.Create(await server.CreateDatabaseAsync("probe", timeout.Token));
            await using (var command = data.CreateCommand("SELECT current_setting('listen_addresses'), current_setting('port'), current_database()"))
            await using (var reader = await command.ExecuteReaderAsync(timeout.Token))
            {
                Assert.True(await reader.ReadAsync(timeout.Token));
                Assert.Equal("127.0.0.1", reader.GetString(0));
                Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), reader.GetString(1));
                Assert.Equal("probe", reader.GetString(2));
            }

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(server.DataDirectory));
            var noPassword = new NpgsqlConnectionStringBuilder(server.ConnectionStringFor("probe")) { Password = null, Pooling = false };
            await using var anonymous = new NpgsqlConnection(noPassword.ConnectionString);
            await Assert.ThrowsAnyAsync<Exception>(() => anonymous.OpenAsync(timeout.Token));
        }

        Assert.False(Directory.Exists(root));
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port, timeout.Token).AsTask());
    }
}
