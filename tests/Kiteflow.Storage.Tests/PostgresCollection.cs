using Kiteflow.Testing.Postgres;

namespace Kiteflow.Storage.Tests;

/// <summary>The PostgreSQL tests here share one throwaway server; each test makes its own database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}
