using Kiteflow.Storage.Postgres.Connection;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Tests.Connection;

public sealed class PostgresConnectionStringTests
{
    private const string Secret = "s3cr3t-Pa55";

    [Fact]
    public void Parse_Uri_ReadsEveryPart()
    {
        var parsed = PostgresConnectionString.Parse($"postgres://kite%20user:{Secret}%40x@db.example.org:6543/kite%2Fflow?sslmode=verify-full&application_name=kf");

        Assert.Equal("db.example.org", parsed.Host);
        Assert.Equal(6543, parsed.Port);
        Assert.Equal("kite/flow", parsed.Database);
        Assert.Equal("kite user", parsed.Username);
        Assert.True(parsed.HasPassword);
        var npgsql = new NpgsqlConnectionStringBuilder(parsed.ToNpgsqlConnectionString());
        Assert.Equal(Secret + "@x", npgsql.Password);
        Assert.Equal(SslMode.VerifyFull, npgsql.SslMode);
        Assert.Equal("kf", npgsql.ApplicationName);
    }

    [Fact]
    public void Parse_PostgresqlSchemeWithIpv6AndNoPort_UsesDefaultPort()
    {
        var parsed = PostgresConnectionString.Parse("postgresql://kiteflow@[::1]/kite");

        Assert.Equal("::1", parsed.Host);
        Assert.Equal(5432, parsed.Port);
        Assert.False(parsed.HasPassword);
    }

    [Fact]
    public void Parse_Keywords_KeepsThem()
    {
        var parsed = PostgresConnectionString.Parse($"Host=127.0.0.1;Port=5433;Username=kiteflow;Password={Secret};Database=kite");

        Assert.Equal("127.0.0.1", parsed.Host);
        Assert.Equal(5433, parsed.Port);
        Assert.Equal("kite", parsed.Database);
        Assert.Equal(Secret, new NpgsqlConnectionStringBuilder(parsed.ToNpgsqlConnectionString()).Password);
    }

    [Theory]
    [InlineData($"postgres://kiteflow:{Secret}@db:5432/kite?sslpassword={Secret}")]
    [InlineData($"Host=db;Username=kiteflow;Password={Secret};SSL Password={Secret}")]
    [InlineData($"Host=db;Username=kiteflow;pwd={Secret}")]
    public void ToString_AnyForm_NeverShowsThePassword(string value)
    {
        var parsed = PostgresConnectionString.Parse(value);

        Assert.DoesNotContain(Secret, parsed.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, parsed.Redacted, StringComparison.Ordinal);
        Assert.Contains(PostgresConnectionString.Mask, parsed.Redacted, StringComparison.Ordinal);
        Assert.Contains("Host=db", parsed.Redacted, StringComparison.Ordinal);
        Assert.Equal(parsed.Redacted, PostgresConnectionString.Redact(value));
    }

    [Theory]
    [InlineData($"postgres://kiteflow:{Secret}@db:notaport/kite", "port")]
    [InlineData($"Host=db;Password={Secret};Port=abc", "'Port'")]
    [InlineData($"Host=db;Password={Secret};Bogus=1", "'Bogus'")]
    [InlineData($"Host=db;Password='{Secret}", "KEY=VALUE")]
    [InlineData($"Username=kiteflow;Password={Secret}", "no host")]
    [InlineData($"postgres://kiteflow:{Secret}@db/kite?nonsense=1", "'nonsense'")]
    public void Parse_NotValid_SaysWhatIsWrongWithoutThePassword(string value, string expected)
    {
        var error = Assert.Throws<FormatException>(() => PostgresConnectionString.Parse(value));

        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, PostgresConnectionString.Redact(value), StringComparison.Ordinal);
    }

    [Fact]
    public void WithDatabase_KeepsTheRestAndThePassword()
    {
        var parsed = PostgresConnectionString.Parse($"postgres://kiteflow:{Secret}@db:5433/one").WithDatabase("two");

        Assert.Equal("two", parsed.Database);
        Assert.Equal(5433, parsed.Port);
        Assert.Equal(Secret, new NpgsqlConnectionStringBuilder(parsed.ToNpgsqlConnectionString()).Password);
    }

    [Theory]
    [InlineData($"postgres://kite%20flow:{Secret}@db.example:5433/kite?sslmode=require", "postgres://kite%20flow@db.example:5433/kite")]
    [InlineData($"Host=::1;Username=kiteflow;Password={Secret};Database=k", "postgres://kiteflow@[::1]:5432/k")]
    [InlineData("Host=db", "postgres://db:5432/")]
    public void Display_IsUserHostPortDatabase_WithoutThePassword(string value, string expected)
    {
        Assert.Equal(expected, PostgresConnectionString.Parse(value).Display);
    }

    [Fact]
    public void Scrub_MasksThePasswordPlainAndUriEscaped()
    {
        const string password = "p@ss/w:rd";
        var parsed = PostgresConnectionString.Parse($"Host=db;Username=kiteflow;Password={password}");

        var scrubbed = parsed.Scrub($"the server said: {password} and {Uri.EscapeDataString(password)} and nothing else");

        Assert.Equal($"the server said: {PostgresConnectionString.Mask} and {PostgresConnectionString.Mask} and nothing else", scrubbed);
        Assert.Equal("no secret here", PostgresConnectionString.Parse("Host=db").Scrub("no secret here"));
    }
}
