using Kiteflow.Storage.Postgres.Reminders;
using Kiteflow.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Kiteflow.Storage.Postgres.Tests.Reminders;

/// <summary>The reminder table against the contract Orleans documents on <see cref="IReminderTable"/>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresReminderTableTests(PostgresServerFixture postgres)
{
    private static readonly DateTime Start = new(2025, 12, 2, 5, 29, 25, 123, 456, DateTimeKind.Utc);

    [Fact]
    public async Task UpsertRow_NewReminder_ReturnsItsEtagAndStoresIt()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var entry = Reminder(Grain(1), "keep-alive", TimeSpan.FromMinutes(1));

        var etag = await table.UpsertRow(entry);
        var read = await table.ReadRow(entry.GrainId, "keep-alive");

        Assert.False(string.IsNullOrEmpty(etag));
        Assert.NotNull(read);
        Assert.Equal(entry.GrainId, read.GrainId);
        Assert.Equal("keep-alive", read.ReminderName);
        Assert.Equal(PostgresTime.Truncate(entry.StartAt), read.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(1), read.Period);
        Assert.Equal(etag, read.ETag);
    }

    [Fact]
    public async Task UpsertRow_ExistingReminder_ReplacesItAndReturnsANewEtag()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var first = await table.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(1)));

        var second = await table.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(5)));
        var read = await table.ReadRow(Grain(1), "r");

        Assert.NotEqual(first, second);
        Assert.Equal(second, read!.ETag);
        Assert.Equal(TimeSpan.FromMinutes(5), read.Period);
        Assert.Single((await table.ReadRows(Grain(1))).Reminders);
    }

    [Fact]
    public async Task RemoveRow_WithAWrongEtag_ReturnsFalseAndKeepsTheReminder()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var stale = await table.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(1)));
        var current = await table.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(2)));

        Assert.False(await table.RemoveRow(Grain(1), "r", stale!));
        Assert.False(await table.RemoveRow(Grain(1), "r", "not-an-etag"));
        Assert.False(await table.RemoveRow(Grain(2), "r", current!));
        Assert.Equal(current, (await table.ReadRow(Grain(1), "r"))?.ETag);
    }

    [Fact]
    public async Task RemoveRow_WithTheCurrentEtag_RemovesItOnce()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var etag = await table.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(1)));

        Assert.True(await table.RemoveRow(Grain(1), "r", etag!));
        Assert.False(await table.RemoveRow(Grain(1), "r", etag!));
        Assert.Null(await table.ReadRow(Grain(1), "r"));
    }

    [Fact]
    public async Task RemoveRow_EtagFromBeforeTheReminderWasRegisteredAgain_RemovesNothing()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var old = await table.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(1)));
        Assert.True(await table.RemoveRow(Grain(1), "r", old!));
        var renewed = await table.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(1)));

        Assert.NotEqual(old, renewed);
        Assert.False(await table.RemoveRow(Grain(1), "r", old!));
        Assert.NotNull(await table.ReadRow(Grain(1), "r"));
    }

    [Fact]
    public async Task ReadRows_ByGrain_ReturnsThatGrainsRemindersOnly()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        await table.UpsertRow(Reminder(Grain(1), "a", TimeSpan.FromMinutes(1)));
        await table.UpsertRow(Reminder(Grain(1), "b", TimeSpan.FromMinutes(1)));
        await table.UpsertRow(Reminder(Grain(2), "a", TimeSpan.FromMinutes(1)));

        var rows = await table.ReadRows(Grain(1));

        Assert.Equal(["a", "b"], rows.Reminders.Select(r => r.ReminderName).Order());
        Assert.All(rows.Reminders, r => Assert.Equal(Grain(1), r.GrainId));
        Assert.Empty((await table.ReadRows(Grain(3))).Reminders);
    }

    [Fact]
    public async Task ReadRows_HashRange_ExcludesBeginAndIncludesEnd()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var grains = await RegisterByHashAsync(table, 20);

        var rows = await table.ReadRows(Hash(grains[3]), Hash(grains[10]));

        Assert.Equal(grains[4..11], HashOrder(rows));
    }

    [Fact]
    public async Task ReadRows_RangeThatWrapsAround_ReturnsBothEndsOfTheRing()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var grains = await RegisterByHashAsync(table, 20);

        var rows = await table.ReadRows(Hash(grains[15]), Hash(grains[4]));

        Assert.Equal([.. grains[..5], .. grains[16..]], HashOrder(rows));
    }

    [Fact]
    public async Task ReadRows_BeginEqualToEnd_ReturnsTheWholeRing()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await StartedAsync(database);
        var grains = await RegisterByHashAsync(table, 20);

        Assert.Equal(grains, HashOrder(await table.ReadRows(Hash(grains[7]), Hash(grains[7]))));
        Assert.Equal(grains, HashOrder(await table.ReadRows(0, 0)));
        Assert.Equal(grains, HashOrder(await table.ReadRows(uint.MaxValue, uint.MaxValue)));
    }

    [Fact]
    public async Task Services_SameDatabase_SeeOnlyTheirOwnReminders()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var mine = await StartedAsync(database, "mine");
        var theirs = await StartedAsync(database, "theirs");
        var etag = await mine.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(1)));
        await theirs.UpsertRow(Reminder(Grain(1), "r", TimeSpan.FromMinutes(3)));

        Assert.False(await theirs.RemoveRow(Grain(1), "r", etag!));
        await theirs.TestOnlyClearTable();

        Assert.Empty((await theirs.ReadRows(0, 0)).Reminders);
        Assert.Equal(TimeSpan.FromMinutes(1), Assert.Single((await mine.ReadRows(0, 0)).Reminders).Period);
    }

    private static GrainId Grain(int n) => GrainId.Create("kiteflow-test", $"destination-{n}");

    private static uint Hash(GrainId grain) => grain.GetUniformHashCode();

    private static ReminderEntry Reminder(GrainId grain, string name, TimeSpan period) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = Start,
        Period = period,
    };

    /// <summary>Registers a reminder for each of <paramref name="count"/> grains; returns the grains by hash.</summary>
    private static async Task<GrainId[]> RegisterByHashAsync(PostgresReminderTable table, int count)
    {
        var grains = Enumerable.Range(1, count).Select(Grain).OrderBy(Hash).ToArray();
        Assert.Equal(count, grains.Select(Hash).Distinct().Count());
        foreach (var grain in grains)
        {
            await table.UpsertRow(Reminder(grain, "r", TimeSpan.FromMinutes(1)));
        }

        return grains;
    }

    private static GrainId[] HashOrder(ReminderTableData rows) => [.. rows.Reminders.Select(r => r.GrainId).OrderBy(Hash)];

    private static async Task<PostgresReminderTable> StartedAsync(PostgresDatabase database, string serviceId = "test")
    {
        var table = new PostgresReminderTable(database, Options.Create(new ClusterOptions { ClusterId = "test", ServiceId = serviceId }), NullLogger<PostgresReminderTable>.Instance);
        await table.StartAsync(CancellationToken.None);
        return table;
    }
}
