using Kiteflow.Testing.Postgres;

namespace Kiteflow.Server.Tests;

/// <summary>The server tests that run on PostgreSQL share one throwaway server; each test makes its own database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}
