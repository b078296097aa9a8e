using Kiteflow.Storage.Sqlite;

namespace Kiteflow.Storage.Tests;

/// <summary>The delivery side of the store contract on a real SQLite file.</summary>
public sealed class SqliteDeliveryStoreTests : DeliveryStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kiteflow-delivery-store-" + Guid.NewGuid().ToString("N"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    protected override Task<IKiteflowStore> CreateStoreAsync() => Task.FromResult<IKiteflowStore>(SqliteKiteflowStore.Open(Path.Combine(_directory, "kiteflow.db")));

    protected override Task<IKiteflowStore> ReopenAsync() => CreateStoreAsync();
}
