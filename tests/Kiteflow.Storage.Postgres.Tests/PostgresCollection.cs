using Kiteflow.Testing.Postgres;

namespace Kiteflow.Storage.Postgres.Tests;

/// <summary>Every test here shares one throwaway PostgreSQL server; each test makes its own database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}
