using Kiteflow.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kiteflow.Storage.Tests;

/// <summary>The store contract on a real SQLite file, and what only SQLite has: file modes, the schema version table.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SqliteKiteflowStoreTests : KiteflowStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kiteflow-store-test-" + Guid.NewGuid().ToString("N"), "data");

    private string DatabasePath => Path.Combine(_directory, "kiteflow.db");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
    }

    [Fact]
    public void Open_CreatesTheFilesOwnerOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        foreach (var file in Directory.GetFiles(_directory))
        {
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} is {File.GetUnixFileMode(file)}");
        }

        Assert.Contains(Directory.GetFiles(_directory), f => f.EndsWith("-wal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MigrateAsync_RecordsEachStepOnce_AndRefusesANewerStore()
    {
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=false"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*), MAX(version) FROM schema_version";
            await using (var reader = await command.ExecuteReaderAsync())
            {
                await reader.ReadAsync();
                Assert.Equal(reader.GetInt64(1), reader.GetInt64(0));
            }

            command.CommandText = "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'from the future', 'x')";
            await command.ExecuteNonQueryAsync();
        }

        var newer = await Assert.ThrowsAsync<StoreException>(() => Store.MigrateAsync(CancellationToken.None));
        Assert.Contains("newer than this Kiteflow", newer.Message);
    }

    protected override Task<IKiteflowStore> CreateStoreAsync() => Task.FromResult<IKiteflowStore>(SqliteKiteflowStore.Open(DatabasePath));

    protected override Task<IKiteflowStore> ReopenAsync() => CreateStoreAsync();
}
