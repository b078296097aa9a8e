using Kiteflow.Server.Hosting;
using Kiteflow.Storage.Postgres.Store;
using Kiteflow.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kiteflow.Server.Tests.Hosting;

public sealed class StoreLocationTests
{
    private const string Secret = "s3cr3t-Pa55-word";

    [Fact]
    public async Task TryParse_SchemeChoosesTheStore()
    {
        Assert.True(StoreLocation.TryParse($"postgres://kiteflow:{Secret}@db.example:5433/kite?sslmode=require", out var postgres, out _));
        Assert.True(StoreLocation.TryParse($"postgresql://kiteflow:{Secret}@db.example/kite", out var postgresql, out _));
        Assert.True(StoreLocation.TryParse("sqlite:relative/kiteflow.db", out var sqlite, out _));

        Assert.Equal("postgres://kiteflow@db.example:5433/kite", postgres.ToString());
        Assert.Equal("postgres://kiteflow@db.example:5432/kite", postgresql.ToString());
        Assert.Equal("sqlite:" + Path.GetFullPath("relative/kiteflow.db"), sqlite.ToString());
        await using var opened = postgres.Open(NullLoggerFactory.Instance);
        Assert.IsType<PostgresKiteflowStore>(opened);
        Assert.Equal("postgres://kiteflow@db.example:5433/kite", opened.Description);
    }

    [Fact]
    public async Task Default_IsTheSqliteFileInTheDataFolder()
    {
        var directory = Directory.CreateTempSubdirectory("kiteflow-store-location-").FullName;
        try
        {
            var location = StoreLocation.Default(directory);
            await using var opened = location.Open(NullLoggerFactory.Instance);

            Assert.Equal(Path.Combine(directory, "kiteflow.db"), Assert.IsType<SqliteKiteflowStore>(opened).Path);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData($"mysql://kiteflow:{Secret}@db/kite", "'mysql:' is not a store this Kiteflow knows")]
    [InlineData($"postgres://kiteflow:{Secret}@db:notaport/kite", "port")]
    [InlineData($"postgres://kiteflow:{Secret}@db/kite?nonsense=1", "'nonsense'")]
    [InlineData($"Host=db;Username=kiteflow;Password={Secret}", "neither sqlite:PATH nor a postgres:// URI")]
    [InlineData($"kiteflow:{Secret}@db/kite", "'kiteflow:' is not a store")]
    [InlineData("sqlite:", "needs a path")]
    public void Build_WithAStoreItCannotUse_NamesTheOptionAndNeverRepeatsThePassword(string store, string expected)
    {
        var invalid = Assert.Throws<ArgumentException>(() => KiteflowServer.Build(new ServerOptions { Store = store, DataDirectory = Path.GetTempPath(), Environment = _ => null }));

        Assert.Contains("--store", invalid.Message, StringComparison.Ordinal);
        Assert.Contains(expected, invalid.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, invalid.Message, StringComparison.Ordinal);
    }
}
