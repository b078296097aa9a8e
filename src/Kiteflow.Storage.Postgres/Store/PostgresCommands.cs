using Npgsql;
using NpgsqlTypes;

namespace Kiteflow.Storage.Postgres.Store;

/// <summary>The few shapes of statement every part of the store uses: typed positional parameters, reads, conflicts.</summary>
internal static class PostgresCommands
{
    public static NpgsqlParameter Long(long value) => new NpgsqlParameter<long> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Bigint };

    public static NpgsqlParameter Int(int value) => new NpgsqlParameter<int> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Integer };

    public static NpgsqlParameter Bool(bool value) => new NpgsqlParameter<bool> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Boolean };

    public static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    public static NpgsqlParameter NullableLong(long? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint };

    /// <summary>
    /// Text that is said, not matched (a message, Buildkite's answer): PostgreSQL's text cannot hold U+0000, which a
    /// response body may, so it is kept as U+FFFD rather than failing the write it is part of.
    /// </summary>
    public static string? FreeText(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal) ? value.Replace('\0', '\uFFFD') : value;

    public static NpgsqlParameter Bytes(byte[] value) => new NpgsqlParameter<byte[]> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Bytea };

    /// <summary>timestamptz wants UTC: Npgsql refuses a <see cref="DateTimeOffset"/> with another offset.</summary>
    public static NpgsqlParameter Time(DateTimeOffset value) => new NpgsqlParameter<DateTimeOffset> { TypedValue = value.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz };

    public static NpgsqlParameter ArrayOf<T>(T[] values, NpgsqlDbType element) => new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | element };

    public static NpgsqlBatchCommand BatchCommand(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        return command;
    }

    public static async Task<List<T>> ListAsync<T>(NpgsqlDataSource source, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = source.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        return await ReadAllAsync(command, read, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<T?> OneAsync<T>(NpgsqlDataSource source, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
        where T : class =>
        (await ListAsync(source, sql, read, cancellationToken, parameters).ConfigureAwait(false)).FirstOrDefault();

    public static async Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    public static async Task<T?> ReadOneAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
        where T : class =>
        (await ReadAllAsync(command, read, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    /// <summary>Runs <paramref name="work"/>; a unique violation becomes the contract's <see cref="StoreConflict.NameTaken"/>.</summary>
    public static async Task<T> NameTakenAsync<T>(Func<Task<T>> work, string what, string name)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (PostgresException e) when (IsUniqueViolation(e))
        {
            throw new StoreConflictException(StoreConflict.NameTaken, $"a {what} named '{name}' already exists.");
        }
    }

    public static bool IsUniqueViolation(PostgresException e) => e.SqlState == PostgresErrorCodes.UniqueViolation;

    public static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    public static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
