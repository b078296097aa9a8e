namespace Kiteflow.Storage.Sqlite;

/// <summary>How <see cref="SqliteKiteflowStore"/> opens its file. Every property has a working default.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>
    /// Whether every commit is flushed to the disk (<c>PRAGMA synchronous = FULL</c>) instead of only written to the
    /// WAL (<c>NORMAL</c>). Default false: a commit then survives the process being killed (kill -9) but not a
    /// power loss or OS crash, which FULL also survives at the cost of one fsync per commit.
    /// </summary>
    public bool FlushEveryCommit { get; set; }

    /// <summary>How many pages of cache each connection keeps (<c>PRAGMA cache_size</c>, negative for KiB). Default -16384 (16 MiB).</summary>
    public int CacheSize { get; set; } = -16384;
}
