using System.Text;

namespace Kiteflow.Storage.Tests;

/// <summary>
/// What every store must do, whatever its database. Each store has a subclass that says how to open a fresh store:
/// <see cref="SqliteKiteflowStoreTests"/> (a real file) and <see cref="PostgresKiteflowStoreTests"/> (a real server).
/// </summary>
public abstract class KiteflowStoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    protected IKiteflowStore Store { get; private set; } = null!;

    /// <summary>A new, empty store (not migrated yet).</summary>
    protected abstract Task<IKiteflowStore> CreateStoreAsync();

    /// <summary>The same store opened again, as after a restart.</summary>
    protected abstract Task<IKiteflowStore> ReopenAsync();

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync(CancellationToken.None);
    }

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task MigrateAsync_RunTwice_KeepsTheSchemaAndTheData()
    {
        var dataset = await NewDatasetAsync("kept");
        var version = await Store.MigrateAsync(CancellationToken.None);

        Assert.True(version >= 1);
        Assert.Equal("kept", (await Store.Datasets.GetByIdAsync(dataset.Id, CancellationToken.None))!.Name);
        Assert.Null(await Store.CheckAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AppendAsync_GivesDenseOffsetsAcrossAppends_AndReadsThemBackPaged()
    {
        var dataset = await NewDatasetAsync("dense");

        var first = await Store.Datasets.AppendAsync(dataset.Id, Batch(0, 3), CancellationToken.None);
        var second = await Store.Datasets.AppendAsync(dataset.Id, Batch(3, 4), CancellationToken.None);

        Assert.Equal((0L, 3, 3L), (first.FirstOffset, first.Count, first.RecordCount));
        Assert.Equal((3L, 4, 7L), (second.FirstOffset, second.Count, second.RecordCount));
        var page = await Store.Datasets.ReadAsync(dataset.Id, 2, 3, CancellationToken.None);
        Assert.Equal([2L, 3L, 4L], page.Select(r => r.Offset));
        Assert.Equal([2, 3, 4], page.Select(r => int.Parse(Encoding.UTF8.GetString(r.Json.Span)[5..^1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Empty(await Store.Datasets.ReadAsync(dataset.Id, 7, 10, CancellationToken.None));
        Assert.Equal(7, (await Store.Datasets.GetAsync("dense", CancellationToken.None))!.RecordCount);
    }

    [Fact]
    public async Task AppendAsync_DatasetsKeepTheirOwnOffsets()
    {
        var a = await NewDatasetAsync("a");
        var b = await NewDatasetAsync("b");

        await Store.Datasets.AppendAsync(a.Id, Batch(0, 5), CancellationToken.None);
        var inB = await Store.Datasets.AppendAsync(b.Id, Batch(100, 2), CancellationToken.None);

        Assert.Equal(0, inB.FirstOffset);
        Assert.Equal(2, (await Store.Datasets.ReadAsync(b.Id, 0, 100, CancellationToken.None)).Count);
        Assert.Equal(5, (await Store.Datasets.ReadAsync(a.Id, 0, 100, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task AppendAsync_SameIdempotencyKey_AppendsNothingAndReturnsTheFirstResult()
    {
        var dataset = await NewDatasetAsync("idem");
        await Store.Datasets.AppendAsync(dataset.Id, Batch(0, 2), CancellationToken.None);

        var first = await Store.Datasets.AppendAsync(dataset.Id, Batch(2, 3, key: "k-1", response: "{\"r\":1}"), CancellationToken.None);
        var again = await Store.Datasets.AppendAsync(dataset.Id, Batch(2, 3, key: "k-1", response: "{\"r\":2}"), CancellationToken.None);

        Assert.False(first.Replayed);
        Assert.True(again.Replayed);
        Assert.Equal((2L, 3), (again.FirstOffset, again.Count));
        Assert.Equal("{\"r\":1}", again.IdempotentResponse);
        Assert.Equal(5, (await Store.Datasets.GetByIdAsync(dataset.Id, CancellationToken.None))!.RecordCount);
    }

    [Fact]
    public async Task AppendAsync_KeepsReadRejectionsAndMergesTheSchema()
    {
        var dataset = await NewDatasetAsync("schema");
        await Store.Datasets.AppendAsync(dataset.Id, new RecordBatch
        {
            Records = [Encoding.UTF8.GetBytes("{\"a\":1}")],
            Schema = new SchemaDelta([new SchemaPath("a", JsonTypes.Number, 1)]),
            Rejections = [new NewReadRejection(2, 1, "bad JSON", "ingest")],
            At = At,
        }, CancellationToken.None);
        await Store.Datasets.AppendAsync(dataset.Id, new RecordBatch
        {
            Records = [Encoding.UTF8.GetBytes("{\"b\":true,\"a\":\"x\"}")],
            Schema = new SchemaDelta([new SchemaPath("b", JsonTypes.Boolean, 1), new SchemaPath("a", JsonTypes.String, 1)]),
            At = At,
        }, CancellationToken.None);

        var schema = await Store.Datasets.GetSchemaAsync(dataset.Id, CancellationToken.None);
        Assert.Equal(["a", "b"], schema.Select(p => p.Path));
        Assert.Equal(JsonTypes.Number | JsonTypes.String, schema[0].Types);
        Assert.Equal(2, schema[0].Records);
        var rejections = await Store.Datasets.ListReadRejectionsAsync(dataset.Id, 0, 10, CancellationToken.None);
        Assert.Equal((2L, 1L, "bad JSON", "ingest"), (rejections.Items.Single().Line!.Value, rejections.Items.Single().Item, rejections.Items.Single().Message, rejections.Items.Single().Origin));
        Assert.Equal(1, (await Store.Datasets.GetByIdAsync(dataset.Id, CancellationToken.None))!.RejectedCount);
    }

    [Fact]
    public async Task AppendAsync_IsDurable_AfterTheStoreIsOpenedAgain()
    {
        var dataset = await NewDatasetAsync("durable");
        await Store.Datasets.AppendAsync(dataset.Id, Batch(0, 10, key: "once"), CancellationToken.None);
        await Store.DisposeAsync();

        Store = await ReopenAsync();
        await Store.MigrateAsync(CancellationToken.None);

        Assert.Equal(10, (await Store.Datasets.ReadAsync(dataset.Id, 0, 100, CancellationToken.None)).Count);
        Assert.True((await Store.Datasets.AppendAsync(dataset.Id, Batch(0, 10, key: "once"), CancellationToken.None)).Replayed);
    }

    [Fact]
    public async Task DatasetNames_AreUnique_AndDeleteTakesTheRecords()
    {
        var dataset = await NewDatasetAsync("unique");
        await Store.Datasets.AppendAsync(dataset.Id, Batch(0, 3), CancellationToken.None);

        var taken = await Assert.ThrowsAsync<StoreConflictException>(() => NewDatasetAsync("unique"));
        Assert.Equal(StoreConflict.NameTaken, taken.Conflict);
        Assert.True(await Store.Datasets.DeleteAsync(dataset.Id, CancellationToken.None));
        Assert.Null(await Store.Datasets.GetAsync("unique", CancellationToken.None));
        Assert.Empty(await Store.Datasets.ReadAsync(dataset.Id, 0, 10, CancellationToken.None));
        var again = await NewDatasetAsync("unique");
        Assert.NotEqual(dataset.Id, again.Id);
        Assert.Equal(0, (await Store.Datasets.AppendAsync(again.Id, Batch(0, 1), CancellationToken.None)).FirstOffset);
    }

    [Fact]
    public async Task Destinations_OptimisticConcurrency_DeletedFreesTheName_InUseBlocksDelete()
    {
        var dataset = await NewDatasetAsync("source");
        var credential = await NewCredentialAsync("cred");
        var created = await Store.Destinations.CreateAsync(new NewDestination("dest", dataset.Id, credential.Id, "{\"url\":\"u\"}", At), CancellationToken.None);
        Assert.Equal((DestinationState.Draft, 1L), (created.State, created.Version));

        var updated = await Store.Destinations.UpdateAsync(created.Id, 1, new DestinationChange(dataset.Id, credential.Id, "{\"url\":\"v\"}", At), CancellationToken.None);
        var stale = await Assert.ThrowsAsync<StoreConflictException>(() => Store.Destinations.UpdateAsync(created.Id, 1, new DestinationChange(dataset.Id, credential.Id, "{}", At), CancellationToken.None));
        Assert.Equal(2, updated.Version);
        Assert.Equal(StoreConflict.VersionMismatch, stale.Conflict);

        Assert.Equal(StoreConflict.InUse, (await Assert.ThrowsAsync<StoreConflictException>(() => Store.Datasets.DeleteAsync(dataset.Id, CancellationToken.None))).Conflict);
        Assert.Equal(StoreConflict.InUse, (await Assert.ThrowsAsync<StoreConflictException>(() => Store.Credentials.DeleteAsync(credential.Id, CancellationToken.None))).Conflict);
        Assert.Equal(StoreConflict.NameTaken, (await Assert.ThrowsAsync<StoreConflictException>(() => Store.Destinations.CreateAsync(new NewDestination("dest", dataset.Id, credential.Id, "{}", At), CancellationToken.None))).Conflict);

        var deleted = await Store.Destinations.SetStateAsync(created.Id, 2, DestinationState.Deleted, At, CancellationToken.None);
        Assert.Equal(DestinationState.Deleted, deleted.State);
        Assert.Null(await Store.Destinations.GetAsync("dest", CancellationToken.None));
        Assert.Empty(await Store.Destinations.ListAsync(null, CancellationToken.None));
        var reused = await Store.Destinations.CreateAsync(new NewDestination("dest", dataset.Id, credential.Id, "{}", At), CancellationToken.None);
        Assert.NotEqual(created.Id, reused.Id);
    }

    [Fact]
    public async Task Credentials_KeepTheSealedBlobAsGiven()
    {
        var credential = await NewCredentialAsync("blob");
        var read = await Store.Credentials.GetAsync("blob", CancellationToken.None);

        Assert.Equal(credential.Secret.Ciphertext, read!.Secret.Ciphertext);
        Assert.Equal((byte[])[1, 2, 3], read.Secret.Nonce);
        Assert.Equal("key-id", read.Secret.KeyId);

        var moved = await Store.Credentials.ReplaceSecretAsync(read.Id, "http://127.0.0.1:9", new SealedSecret("key-id", [9], [8], [7]), At, CancellationToken.None);
        Assert.Equal("http://127.0.0.1:9", moved!.ApiBase);
        Assert.Equal((byte[])[8], moved.Secret.Ciphertext);
    }

    [Fact]
    public async Task UsersAndApiKeys_FindByHash_RevokeHides()
    {
        var user = await Store.Users.CreateAsync("admin", "hash", "admin", At, CancellationToken.None);
        var key = await Store.Users.CreateApiKeyAsync(new NewApiKey(user.Id, "ci", "kfk_abc", "h1", At), CancellationToken.None);

        Assert.Equal("admin", (await Store.Users.FindApiKeyAsync("h1", CancellationToken.None))!.UserName);
        Assert.True(await Store.Users.RevokeApiKeyAsync(key.Id, At, CancellationToken.None));
        Assert.Null(await Store.Users.FindApiKeyAsync("h1", CancellationToken.None));
        Assert.NotNull((await Store.Users.ListApiKeysAsync(CancellationToken.None)).Single().RevokedAt);
        Assert.Equal(StoreConflict.NameTaken, (await Assert.ThrowsAsync<StoreConflictException>(() => Store.Users.CreateAsync("admin", "x", "admin", At, CancellationToken.None))).Conflict);
    }

    [Fact]
    public async Task Audit_ListsNewestFirst_PagedAndFiltered()
    {
        for (var i = 0; i < 5; i++)
        {
            await Store.Audit.AppendAsync(new NewAuditEntry(At, "admin", "dataset.create", i % 2 == 0 ? "dataset" : "credential", $"n{i}", null), CancellationToken.None);
        }

        var first = await Store.Audit.ListAsync(null, null, null, 2, CancellationToken.None);
        var second = await Store.Audit.ListAsync(null, null, first.Next, 10, CancellationToken.None);
        var datasets = await Store.Audit.ListAsync("dataset", null, null, 10, CancellationToken.None);

        Assert.Equal(["n4", "n3"], first.Items.Select(e => e.ResourceName));
        Assert.Equal(["n2", "n1", "n0"], second.Items.Select(e => e.ResourceName));
        Assert.Null(second.Next);
        Assert.Equal(["n4", "n2", "n0"], datasets.Items.Select(e => e.ResourceName));
    }

    [Fact]
    public async Task AppendAsync_SeveralAppendersAtOnce_OffsetsAreDenseAndEachRecordIsStoredOnce()
    {
        const int appenders = 8, batches = 10, size = 25;
        var dataset = await NewDatasetAsync("concurrent");
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var running = Enumerable.Range(0, appenders).Select(a => Task.Run(async () =>
        {
            await go.Task;
            var mine = new List<(AppendResult Result, string[] Records)>();
            for (var b = 0; b < batches; b++)
            {
                string[] records = [.. Enumerable.Range(0, size).Select(i => $"{{\"a\":{a},\"b\":{b},\"i\":{i}}}")];
                mine.Add((await Store.Datasets.AppendAsync(dataset.Id, Texts(records), CancellationToken.None), records));
            }

            return mine;
        })).ToList();
        go.SetResult();
        var appends = (await Task.WhenAll(running)).SelectMany(a => a).ToList();

        var stored = await ReadAllAsync(dataset.Id);
        var total = appenders * batches * size;
        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), stored.Select(r => r.Offset));
        Assert.Equal(appends.SelectMany(a => a.Records).Order(StringComparer.Ordinal), stored.Select(Text).Order(StringComparer.Ordinal));
        foreach (var (result, records) in appends)
        {
            Assert.False(result.Replayed);
            Assert.Equal(records, stored.Skip((int)result.FirstOffset).Take(result.Count).Select(Text));
        }

        Assert.Equal(total, (await Store.Datasets.GetByIdAsync(dataset.Id, CancellationToken.None))!.RecordCount);
    }

    [Fact]
    public async Task AppendAsync_OneIdempotencyKeyRepeatedAtOnce_AppendsOnce()
    {
        const int repeats = 8;
        var dataset = await NewDatasetAsync("same-key");
        await Store.Datasets.AppendAsync(dataset.Id, Batch(0, 3), CancellationToken.None);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var running = Enumerable.Range(0, repeats).Select(r => Task.Run(async () =>
        {
            await go.Task;
            return await Store.Datasets.AppendAsync(dataset.Id, Batch(3, 5, key: "retried", response: $"{{\"r\":{r}}}"), CancellationToken.None);
        })).ToList();
        go.SetResult();
        var results = await Task.WhenAll(running);

        Assert.Single(results, r => !r.Replayed);
        Assert.All(results, r => Assert.Equal((3L, 5), (r.FirstOffset, r.Count)));
        Assert.NotNull(Assert.Single(results.Where(r => r.Replayed).Select(r => r.IdempotentResponse).Distinct()));
        Assert.Equal(8, (await Store.Datasets.GetByIdAsync(dataset.Id, CancellationToken.None))!.RecordCount);
        Assert.Equal(8, (await ReadAllAsync(dataset.Id)).Count);
    }

    [Fact]
    public async Task AppendAsync_KeepsEachRecordsTextExactly()
    {
        var dataset = await NewDatasetAsync("exact");
        string[] texts =
        [
            "{\"n\":1.0,\"big\":123456789012345678901234567890.000,\"e\":1E+2,\"neg\":-0}",
            "{\"dup\":1,\"dup\":2,\"z\":null,\"a\":[]}",
            "{\"s\":\"caf\u00e9 \u2603 \ud83c\udf89\",\"raw\":\"é ☃ 🎉\",\"nul\":\"\\u0000\"}",
        ];

        await Store.Datasets.AppendAsync(dataset.Id, Texts(texts), CancellationToken.None);

        Assert.Equal(texts, (await ReadAllAsync(dataset.Id)).Select(Text));
    }

    [Fact]
    public async Task AppendAsync_ToADeletedDataset_IsNotFound()
    {
        var dataset = await NewDatasetAsync("gone");
        Assert.True(await Store.Datasets.DeleteAsync(dataset.Id, CancellationToken.None));

        var gone = await Assert.ThrowsAsync<StoreConflictException>(() => Store.Datasets.AppendAsync(dataset.Id, Batch(0, 1), CancellationToken.None));

        Assert.Equal(StoreConflict.NotFound, gone.Conflict);
        Assert.False(await Store.Datasets.DeleteAsync(dataset.Id, CancellationToken.None));
    }

    [Fact]
    public async Task AppendAsync_SchemaDeltaNamingAPathTwice_MergesBothIntoOnePath()
    {
        var dataset = await NewDatasetAsync("twice");

        await Store.Datasets.AppendAsync(dataset.Id, new RecordBatch
        {
            Records = [Encoding.UTF8.GetBytes("{\"a\":1}"), Encoding.UTF8.GetBytes("{\"b\":\"x\",\"a\":\"y\"}")],
            Schema = new SchemaDelta([new SchemaPath("a", JsonTypes.Number, 1), new SchemaPath("b", JsonTypes.String, 1), new SchemaPath("a", JsonTypes.String, 1)]),
            At = At,
        }, CancellationToken.None);

        var schema = await Store.Datasets.GetSchemaAsync(dataset.Id, CancellationToken.None);
        Assert.Equal([("a", JsonTypes.Number | JsonTypes.String, 2L), ("b", JsonTypes.String, 1L)], schema.Select(p => (p.Path, p.Types, p.Records)));
    }

    [Fact]
    public async Task Lists_SortNamesByteWise_WhateverTheDatabaseLocale()
    {
        string[] names = ["b", "B", "a", "_x", "Z", "\u00e9"];
        var credential = await NewCredentialAsync("cred");
        foreach (var name in names)
        {
            var dataset = await NewDatasetAsync(name);
            await NewCredentialAsync("c" + name);
            await Store.Destinations.CreateAsync(new NewDestination(name, dataset.Id, credential.Id, "{}", At), CancellationToken.None);
        }

        string[] byteWise = ["B", "Z", "_x", "a", "b", "\u00e9"];
        Assert.Equal(byteWise, (await Store.Datasets.ListAsync(CancellationToken.None)).Select(d => d.Name));
        Assert.Equal(byteWise, (await Store.Destinations.ListAsync(null, CancellationToken.None)).Select(d => d.Name));
        Assert.Equal(byteWise, (await Store.Destinations.ListAsync(DestinationState.Draft, CancellationToken.None)).Select(d => d.Name));
        Assert.Equal(names.Select(n => "c" + n).Append("cred").Order(StringComparer.Ordinal), (await Store.Credentials.ListAsync(CancellationToken.None)).Select(c => c.Name));
    }

    protected Task<DatasetRow> NewDatasetAsync(string name) =>
        Store.Datasets.CreateAsync(new NewDataset(name, DatasetSource.Upload, new IngestKeySettings("hash-" + name, "kfi_" + name, false), At), CancellationToken.None);

    protected Task<CredentialRow> NewCredentialAsync(string name) =>
        Store.Credentials.CreateAsync(new NewCredential(name, CredentialKind.Buildkite, "https://api.buildkite.com", new SealedSecret("key-id", [1, 2, 3], [4, 5, 6, 7], [8]), At), CancellationToken.None);

    /// <summary>Every record of a dataset, read a page at a time.</summary>
    protected async Task<List<StoredRecord>> ReadAllAsync(long datasetId)
    {
        var all = new List<StoredRecord>();
        IReadOnlyList<StoredRecord> page;
        while ((page = await Store.Datasets.ReadAsync(datasetId, all.Count, 97, CancellationToken.None)).Count > 0)
        {
            all.AddRange(page);
        }

        return all;
    }

    protected static string Text(StoredRecord record) => Encoding.UTF8.GetString(record.Json.Span);

    protected static RecordBatch Texts(IEnumerable<string> records, string? key = null) => new()
    {
        Records = [.. records.Select(r => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(r))],
        IdempotencyKey = key,
        At = At,
    };

    private static RecordBatch Batch(int from, int count, string? key = null, string? response = null) => new()
    {
        Records = [.. Enumerable.Range(from, count).Select(i => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"))],
        IdempotencyKey = key,
        IdempotentResponse = response,
        At = At,
    };
}
