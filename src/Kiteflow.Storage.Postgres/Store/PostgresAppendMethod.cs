namespace Kiteflow.Storage.Postgres.Store;

/// <summary>How an append writes its records (both in the append's transaction, after the dataset's row lock).</summary>
internal enum PostgresAppendMethod
{
    /// <summary>Binary <c>COPY … FROM STDIN</c>: the records stream as rows; one more round trip than an insert.</summary>
    Copy,

    /// <summary>One <c>INSERT … SELECT FROM unnest($::bytea[])</c>, sent in the same round trip as the rest of the append.</summary>
    Unnest,
}
