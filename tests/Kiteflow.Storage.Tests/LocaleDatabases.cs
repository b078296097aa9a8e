using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Storage.Tests;

/// <summary>Databases on the test server that sort text by ICU's en-US collation, as a user's database typically does (the server's default is C).</summary>
internal static class LocaleDatabases
{
    /// <summary>A new, empty database; its connection string in Npgsql's form.</summary>
    public static async Task<string> CreateAsync(PostgresServerFixture postgres)
    {
        var name = "kf_store_" + Guid.NewGuid().ToString("N")[..12];
        await using var admin = NpgsqlDataSource.Create(postgres.Server.ConnectionStringFor("postgres"));
        await using var command = admin.CreateCommand($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
        await command.ExecuteNonQueryAsync();
        return PostgresConnectionString.Parse(postgres.Server.ConnectionStringFor(name)).ToNpgsqlConnectionString();
    }
}
