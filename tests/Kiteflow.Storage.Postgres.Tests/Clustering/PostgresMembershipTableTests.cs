using System.Net;
using Kiteflow.Storage.Postgres.Clustering;
using Kiteflow.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;

namespace Kiteflow.Storage.Postgres.Tests.Clustering;

/// <summary>The membership table against the contract Orleans documents on <see cref="IMembershipTable"/>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresMembershipTableTests(PostgresServerFixture postgres)
{
    private static readonly DateTime Start = new(2025, 12, 2, 5, 29, 25, 123, 456, DateTimeKind.Utc);

    [Fact]
    public async Task InitializeMembershipTable_Twice_LeavesAnEmptyTableAtVersionZero()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = Table(database);

        await table.InitializeMembershipTable(true);
        await table.InitializeMembershipTable(true);
        var data = await table.ReadAll();

        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM orleans_membership_version"));
    }

    [Fact]
    public async Task InsertRow_WithTheCurrentEtag_AddsTheRowAndAdvancesTheVersion()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        var before = (await table.ReadAll()).Version;
        var entry = Entry(1, SiloStatus.Joining);
        entry.AddSuspector(Silo(9), Start.AddSeconds(5));

        Assert.True(await table.InsertRow(entry, before.Next()));
        var after = await table.ReadAll();

        Assert.Equal(before.Version + 1, after.Version.Version);
        Assert.NotEqual(before.VersionEtag, after.Version.VersionEtag);
        var (read, etag) = Assert.Single(after.Members);
        Assert.False(string.IsNullOrEmpty(etag));
        AssertSame(entry, read);
    }

    [Fact]
    public async Task InsertRow_WithAStaleEtag_ReturnsFalseAndChangesNothing()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        var stale = (await table.ReadAll()).Version;
        Assert.True(await table.InsertRow(Entry(1), stale.Next()));
        var current = (await table.ReadAll()).Version;

        Assert.False(await table.InsertRow(Entry(2), stale.Next()));
        Assert.False(await table.InsertRow(Entry(2), new TableVersion(current.Version + 1, "not-an-etag")));
        var after = await table.ReadAll();

        Assert.Equal(current, after.Version);
        Assert.Single(after.Members);
    }

    [Fact]
    public async Task InsertRow_SiloAlreadyThere_ReturnsFalseAndKeepsTheVersion()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var current = (await table.ReadAll()).Version;

        Assert.False(await table.InsertRow(Entry(1, SiloStatus.Active), current.Next()));
        var after = await table.ReadAll();

        Assert.Equal(current, after.Version);
        Assert.Equal(SiloStatus.Joining, Assert.Single(after.Members).Item1.Status);
    }

    [Fact]
    public async Task InsertRow_TwoSilosWithTheSameVersion_OnlyOneWins()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        var version = (await table.ReadAll()).Version;

        var results = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => Task.Run(() => table.InsertRow(Entry(i), version.Next()))));

        Assert.Single(results, r => r);
        Assert.Single((await table.ReadAll()).Members);
    }

    [Fact]
    public async Task UpdateRow_WithTheCurrentEtags_ReplacesTheEntryAndItsEtag()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var read = await table.ReadRow(Silo(1));
        var (entry, etag) = Assert.Single(read.Members);
        entry.Status = SiloStatus.Active;
        entry.AddSuspector(Silo(2), Start.AddMinutes(1));
        entry.AddSuspector(Silo(3), Start.AddMinutes(2));

        Assert.True(await table.UpdateRow(entry, etag, read.Version.Next()));
        var after = await table.ReadAll();

        Assert.Equal(read.Version.Version + 1, after.Version.Version);
        var (updated, newEtag) = Assert.Single(after.Members);
        Assert.NotEqual(etag, newEtag);
        AssertSame(entry, updated);
    }

    [Fact]
    public async Task UpdateRow_WithAStaleTableEtag_ReturnsFalseAndChangesNothing()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var read = await table.ReadRow(Silo(1));
        var (entry, etag) = Assert.Single(read.Members);
        Assert.True(await table.InsertRow(Entry(2), read.Version.Next()));
        var current = await table.ReadAll();

        entry.Status = SiloStatus.Dead;
        Assert.False(await table.UpdateRow(entry, etag, read.Version.Next()));
        var after = await table.ReadAll();

        Assert.Equal(current.Version, after.Version);
        Assert.Equal(SiloStatus.Joining, after.TryGet(Silo(1))!.Item1.Status);
    }

    [Fact]
    public async Task UpdateRow_WithAStaleRowEtag_ReturnsFalseAndLeavesTheVersion()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var first = await table.ReadRow(Silo(1));
        var (entry, staleEtag) = Assert.Single(first.Members);
        entry.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRow(entry, staleEtag, first.Version.Next()));
        var current = await table.ReadAll();

        entry.Status = SiloStatus.Dead;
        Assert.False(await table.UpdateRow(entry, staleEtag, current.Version.Next()));
        Assert.False(await table.UpdateRow(entry, "not-an-etag", current.Version.Next()));
        var after = await table.ReadAll();

        Assert.Equal(current.Version, after.Version);
        Assert.Equal(SiloStatus.Active, Assert.Single(after.Members).Item1.Status);
    }

    [Fact]
    public async Task UpdateRow_SiloNotInTheTable_ReturnsFalse()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var read = await table.ReadAll();
        var etag = Assert.Single(read.Members).Item2;

        Assert.False(await table.UpdateRow(Entry(2, SiloStatus.Active), etag, read.Version.Next()));
        Assert.Equal(read.Version, (await table.ReadAll()).Version);
    }

    [Fact]
    public async Task UpdateIAmAlive_WritesTheHeartbeatOnly_AndTheEtagsReadBeforeStayUsable()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var read = await table.ReadRow(Silo(1));
        var (entry, etag) = Assert.Single(read.Members);

        var heartbeat = Entry(1, SiloStatus.Dead);
        heartbeat.IAmAliveTime = Start.AddMinutes(10);
        await table.UpdateIAmAlive(heartbeat);
        var afterHeartbeat = await table.ReadRow(Silo(1));

        var (beating, beatingEtag) = Assert.Single(afterHeartbeat.Members);
        Assert.Equal(Start.AddMinutes(10), beating.IAmAliveTime);
        Assert.Equal(SiloStatus.Joining, beating.Status);
        Assert.Equal(read.Version, afterHeartbeat.Version);
        Assert.Equal(etag, beatingEtag);

        entry.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRow(entry, etag, read.Version.Next()));
        var updated = Assert.Single((await table.ReadAll()).Members).Item1;
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.Equal(Start.AddMinutes(10), updated.IAmAliveTime); // the older time the caller read never rolls the heartbeat back
    }

    [Fact]
    public async Task UpdateIAmAlive_SiloNotInTheTable_Throws()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);

        await Assert.ThrowsAsync<OrleansMissingMembershipEntryException>(() => table.UpdateIAmAlive(Entry(1)));
    }

    [Fact]
    public async Task CleanupDefunctSiloEntries_RemovesOnlyDeadSilosNotHeardOfSinceTheDate()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        var cutoff = Start.AddHours(1);
        var deadLongAgo = Entry(1, SiloStatus.Dead);
        var deadRecently = Entry(2, SiloStatus.Dead);
        deadRecently.IAmAliveTime = cutoff.AddMinutes(1);
        var activeLongAgo = Entry(3, SiloStatus.Active);
        var deadButSuspectedRecently = Entry(4, SiloStatus.Dead);
        deadButSuspectedRecently.AddSuspector(Silo(2), cutoff.AddMinutes(1));
        var deadWithHeartbeatAfterRead = Entry(5, SiloStatus.Dead);
        foreach (var entry in new[] { deadLongAgo, deadRecently, activeLongAgo, deadButSuspectedRecently, deadWithHeartbeatAfterRead })
        {
            Assert.True(await table.InsertRow(entry, (await table.ReadAll()).Version.Next()));
        }

        deadWithHeartbeatAfterRead.IAmAliveTime = cutoff.AddSeconds(1);
        await table.UpdateIAmAlive(deadWithHeartbeatAfterRead);
        var version = (await table.ReadAll()).Version;

        await table.CleanupDefunctSiloEntries(new DateTimeOffset(cutoff));
        var after = await table.ReadAll();

        Assert.Equal([Silo(2), Silo(3), Silo(4), Silo(5)], after.Members.Select(m => m.Item1.SiloAddress).Order());
        Assert.Equal(version, after.Version);
    }

    [Fact]
    public async Task ReadRow_ReturnsThatSiloOnlyWithTheTableVersion()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = await InitializedAsync(database);
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        Assert.True(await table.InsertRow(Entry(2), (await table.ReadAll()).Version.Next()));
        var all = await table.ReadAll();

        var one = await table.ReadRow(Silo(2));
        var none = await table.ReadRow(Silo(3));

        Assert.Equal(all.Version, one.Version);
        Assert.Equal(Silo(2), Assert.Single(one.Members).Item1.SiloAddress);
        Assert.Equal(all.TryGet(Silo(2))!.Item2, one.Members[0].Item2);
        Assert.Empty(none.Members);
        Assert.Equal(all.Version, none.Version);
    }

    [Fact]
    public async Task DeleteMembershipTableEntries_RemovesThatClusterOnly()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var blue = await InitializedAsync(database, "blue");
        var green = await InitializedAsync(database, "green");
        Assert.True(await blue.InsertRow(Entry(1), (await blue.ReadAll()).Version.Next()));
        Assert.True(await green.InsertRow(Entry(1), (await green.ReadAll()).Version.Next()));
        Assert.True(await green.InsertRow(Entry(2), (await green.ReadAll()).Version.Next()));

        await blue.DeleteMembershipTableEntries("blue");

        Assert.Empty((await blue.ReadAll()).Members);
        Assert.Equal(2, (await green.ReadAll()).Members.Count);
        await blue.InitializeMembershipTable(true);
        Assert.True(await blue.InsertRow(Entry(3), (await blue.ReadAll()).Version.Next()));
    }

    [Fact]
    public async Task ReadAll_BeforeInitialization_IsEmptyAndNoWriteCanMatchItsEtag()
    {
        await using var db = await TestDatabase.CreateAsync(postgres);
        await using var database = db.Open();
        var table = Table(database);
        await table.InitializeMembershipTable(false);

        var data = await table.ReadAll();

        Assert.Empty(data.Members);
        Assert.False(await table.InsertRow(Entry(1), data.Version.Next()));
    }

    internal static SiloAddress Silo(int n) => SiloAddress.New(IPAddress.Loopback, 11000 + n, 1000 + n);

    private static PostgresMembershipTable Table(PostgresDatabase database, string clusterId = "test") =>
        new(database, Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "test" }), NullLogger<PostgresMembershipTable>.Instance);

    private static async Task<PostgresMembershipTable> InitializedAsync(PostgresDatabase database, string clusterId = "test")
    {
        var table = Table(database, clusterId);
        await table.InitializeMembershipTable(true);
        return table;
    }

    private static MembershipEntry Entry(int n, SiloStatus status = SiloStatus.Joining) => new()
    {
        SiloAddress = Silo(n),
        Status = status,
        SiloName = $"silo-{n}",
        HostName = "kiteflow-host",
        RoleName = "worker",
        ProxyPort = 30000 + n,
        UpdateZone = n % 3,
        FaultZone = n % 5,
        StartTime = Start,
        IAmAliveTime = Start.AddSeconds(n),
        SuspectTimes = [],
    };

    private static void AssertSame(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.SiloAddress.Generation, actual.SiloAddress.Generation);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.RoleName, actual.RoleName);
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.UpdateZone, actual.UpdateZone);
        Assert.Equal(expected.FaultZone, actual.FaultZone);
        Assert.Equal(PostgresTime.Truncate(expected.StartTime), actual.StartTime);
        Assert.Equal(PostgresTime.Truncate(expected.IAmAliveTime), actual.IAmAliveTime);
        Assert.Equal(
            (expected.SuspectTimes ?? []).Select(s => (s.Item1, PostgresTime.Truncate(s.Item2))),
            (actual.SuspectTimes ?? []).Select(s => (s.Item1, s.Item2)));
    }
}
