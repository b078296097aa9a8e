using System.Runtime.Versioning;
using Kiteflow.Delivery.Ledger;
using Kiteflow.Delivery.Tests.Credentials;
using Kiteflow.Storage.Sqlite.Ledger;

namespace Kiteflow.Delivery.Tests.Delivery;

/// <summary>The SQLite ledger on a real file.</summary>
public sealed class SqliteDeliveryLedgerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-ledger-").FullName;

    private string PathOf(string name) => Path.Combine(_directory, name);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Write_Find_Count_SurviveReopening()
    {
        var path = PathOf("ledger.db");
        await using (var ledger = await SqliteDeliveryLedger.OpenAsync(path))
        {
            await ledger.WriteAllAsync([Entry("run", 0, BatchState.InFlight), Entry("run", 3, BatchState.InFlight, positions: [3, 4, 7])], CancellationToken.None);
            await ledger.WriteAsync(Entry("run", 0, BatchState.Delivered) with { Status = 201, Attempts = 2 }, durable: false, CancellationToken.None);
            await ledger.WriteAsync(Entry("other", 0, BatchState.Rejected) with { Status = 404, Message = "No pipeline found", Response = """{"message":"No pipeline found"}""" }, durable: true, CancellationToken.None);
        }

        await using var reopened = await SqliteDeliveryLedger.OpenAsync(path);
        Assert.Equal(2, await reopened.CountAsync("run", CancellationToken.None));
        Assert.Equal(0, await reopened.CountAsync("nope", CancellationToken.None));
        var delivered = await reopened.FindAsync("run", 0, CancellationToken.None);
        Assert.Equal((BatchState.Delivered, 201, 2), (delivered!.State, delivered.Status, delivered.Attempts));
        var inFlight = await reopened.FindAsync("run", 3, CancellationToken.None);
        Assert.Equal(BatchState.InFlight, inFlight!.State);
        Assert.Equal([3L, 4L, 7L], inFlight.Positions);
        Assert.Equal("kf-3", inFlight.DeliveryId);
        var rejected = await reopened.FindAsync("other", 0, CancellationToken.None);
        Assert.Equal(("No pipeline found", """{"message":"No pipeline found"}"""), (rejected!.Message, rejected.Response));
        Assert.Null(await reopened.FindAsync("run", 1, CancellationToken.None));
    }

    [Fact]
    public async Task WriterThatCannotOpenItsConnection_FailsEveryWrite_NothingWaitsForEver()
    {
        // The writer thread's connection points into a folder that does not exist: SQLite refuses to open it.
        var unopenable = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = PathOf("missing/ledger.db"), Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadWrite, Pooling = false }.ToString();
        var ledger = await SqliteDeliveryLedger.OpenAsync(PathOf("ledger.db"), unopenable, CancellationToken.None);
        var patience = TimeSpan.FromMinutes(2);

        var durable = await Record.ExceptionAsync(() => ledger.WriteAsync(Entry("run", 0, BatchState.InFlight), durable: true, CancellationToken.None).WaitAsync(patience));
        var all = await Record.ExceptionAsync(() => ledger.WriteAllAsync([Entry("run", 1, BatchState.InFlight)], CancellationToken.None).WaitAsync(patience));
        var flush = await Record.ExceptionAsync(() => ledger.FlushAsync(CancellationToken.None).WaitAsync(patience));

        Assert.All(new[] { durable, all, flush }, e => Assert.IsType<Microsoft.Data.Sqlite.SqliteException>(e));
        await ledger.DisposeAsync();
    }

    [Fact]
    public async Task DurableWrite_IsOnDiskWhenItReturns_EvenIfTheProcessThenDies()
    {
        var path = PathOf("durable.db");
        var ledger = await SqliteDeliveryLedger.OpenAsync(path);
        await ledger.WriteAsync(Entry("run", 9, BatchState.InFlight), durable: true, CancellationToken.None);

        // Read the file with a second, independent connection while the first ledger is still open and
        // never disposed: what a new process would see after this one was killed.
        await using var other = await SqliteDeliveryLedger.OpenAsync(path);
        Assert.Equal(BatchState.InFlight, (await other.FindAsync("run", 9, CancellationToken.None))!.State);
        await ledger.DisposeAsync();
    }

    [Fact]
    public async Task ConcurrentWriters_EveryEntryKept()
    {
        await using var ledger = await SqliteDeliveryLedger.OpenAsync(PathOf("concurrent.db"));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
            {
                await ledger.WriteAsync(Entry("run", (w * 1000) + i, BatchState.Delivered), durable: i % 50 == 0, CancellationToken.None);
            }
        })));
        await ledger.FlushAsync(CancellationToken.None);

        Assert.Equal(2000, await ledger.CountAsync("run", CancellationToken.None));
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public async Task Open_InAFolderThatDoesNotExist_MakesTheFolder0700_AndTheFileWalAndShm0600()
    {
        var folder = PathOf("data");
        var path = Path.Combine(folder, "ledger.db");

        await using (var ledger = await SqliteDeliveryLedger.OpenAsync(path))
        {
            await ledger.WriteAsync(Entry("run", 0, BatchState.Rejected) with { Response = """{"message":"No pipeline found"}""" }, durable: true, CancellationToken.None);

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                Assert.True(File.Exists(file), $"{file} is missing");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public async Task Open_ExistingLedgerOthersMayRead_IsNarrowed()
    {
        var path = PathOf("old.db");
        await (await SqliteDeliveryLedger.OpenAsync(path)).DisposeAsync();
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await (await SqliteDeliveryLedger.OpenAsync(path)).DisposeAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task Restart_NotDelivered_ForgetsRejected_ReopensPossiblyDelivered_KeepsDeliveredAndInFlight()
    {
        await using var ledger = await SqliteDeliveryLedger.OpenAsync(PathOf("restart.db"));
        await ledger.WriteAllAsync(
        [
            Entry("run", 0, BatchState.Delivered),
            Entry("run", 1, BatchState.Rejected) with { Status = 404, Message = "No pipeline found" },
            Entry("run", 2, BatchState.PossiblyDelivered) with { Message = "Possibly delivered" },
            Entry("run", 3, BatchState.InFlight),
            Entry("run", 4, BatchState.Pending),
            Entry("other", 1, BatchState.Rejected),
        ], CancellationToken.None);

        var changed = await ledger.RestartAsync("run", resendDelivered: false, lookUpPossiblyDelivered: true, CancellationToken.None);

        Assert.Equal(2, changed);
        Assert.Equal(BatchState.Delivered, (await ledger.FindAsync("run", 0, CancellationToken.None))!.State);
        Assert.Null(await ledger.FindAsync("run", 1, CancellationToken.None));
        var reopened = (await ledger.FindAsync("run", 2, CancellationToken.None))!;
        Assert.Equal((BatchState.InFlight, null), (reopened.State, reopened.Message));
        Assert.Equal(BatchState.InFlight, (await ledger.FindAsync("run", 3, CancellationToken.None))!.State);
        Assert.Equal(BatchState.Pending, (await ledger.FindAsync("run", 4, CancellationToken.None))!.State);
        Assert.Equal(BatchState.Rejected, (await ledger.FindAsync("other", 1, CancellationToken.None))!.State);
        Assert.Equal(0, await ledger.GenerationAsync("run", CancellationToken.None));
    }

    [Fact]
    public async Task Restart_Everything_MovesTheRunAside_AndEachTimeRaisesItsGeneration()
    {
        var path = PathOf("generations.db");
        await using (var ledger = await SqliteDeliveryLedger.OpenAsync(path))
        {
            await ledger.WriteAllAsync([Entry("run", 0, BatchState.Delivered), Entry("run", 1, BatchState.InFlight), Entry("run-b", 0, BatchState.Delivered)], CancellationToken.None);

            Assert.Equal(2, await ledger.RestartAsync("run", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None));
            Assert.Equal(0, await ledger.CountAsync("run", CancellationToken.None));
            Assert.Equal(1, await ledger.GenerationAsync("run", CancellationToken.None));

            // A restart of a run that recorded nothing still moves to a new generation: its ids were used.
            Assert.Equal(0, await ledger.RestartAsync("run", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None));
        }

        await using var reopened = await SqliteDeliveryLedger.OpenAsync(path);
        Assert.Equal(2, await reopened.GenerationAsync("run", CancellationToken.None));
        Assert.Equal(0, await reopened.GenerationAsync("run-b", CancellationToken.None));
        Assert.Equal(1, await reopened.CountAsync("run-b", CancellationToken.None));
    }

    private static LedgerEntry Entry(string run, long first, BatchState state, long[]? positions = null) => new()
    {
        Run = run,
        FirstPosition = first,
        Positions = positions ?? [first],
        State = state,
        Attempts = 1,
        DeliveryId = $"kf-{first}",
        UpdatedAt = DateTimeOffset.UtcNow,
    };
}
