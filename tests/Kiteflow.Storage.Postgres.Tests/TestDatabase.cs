using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Tests;

/// <summary>A fresh, empty database on the collection's server, with a few helpers to look inside it.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string connectionString)
    {
        ConnectionString = PostgresConnectionString.Parse(connectionString);
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public PostgresConnectionString ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static async Task<TestDatabase> CreateAsync(PostgresServerFixture postgres) =>
        new(await postgres.CreateDatabaseAsync());

    /// <summary>A <see cref="PostgresDatabase"/> (pool + Kiteflow's migrations) on this database.</summary>
    public PostgresDatabase Open() => new(ConnectionString);

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<T>> ColumnAsync<T>(string sql)
    {
        var values = new List<T>();
        await using var command = DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public async ValueTask DisposeAsync() => await DataSource.DisposeAsync();
}
