using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Kiteflow.Storage.Postgres.Connection;

/// <summary>
/// A PostgreSQL connection string, given as a URI (<c>postgres://user:password@host:5432/database?sslmode=require</c>,
/// as libpq and most tools write it) or in Npgsql's keyword form (<c>Host=…;Username=…;Password=…</c>).
/// Its text form (<see cref="ToString"/>, <see cref="Redacted"/>) never contains the password, so an instance
/// can go into a log line, an exception or a health report as it is; only
/// <see cref="ToNpgsqlConnectionString"/> carries the secret, for Npgsql.
/// </summary>
public sealed class PostgresConnectionString
{
    /// <summary>What stands in for a secret in <see cref="Redacted"/>.</summary>
    public const string Mask = "••••";

    private const string Usage = "write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE or as Host=HOST;Port=PORT;Username=USER;Password=PASSWORD;Database=DATABASE";

    // libpq's URI parameters that Npgsql spells differently; anything else is taken as an Npgsql keyword.
    private static readonly Dictionary<string, string> UriParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["target_session_attrs"] = "Target Session Attributes",
        ["options"] = "Options",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["user"] = "Username",
        ["password"] = "Password",
        ["host"] = "Host",
        ["port"] = "Port",
        ["dbname"] = "Database",
    };

    private static readonly Dictionary<string, string> SslModes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["disable"] = "Disable",
        ["allow"] = "Allow",
        ["prefer"] = "Prefer",
        ["require"] = "Require",
        ["verify-ca"] = "VerifyCA",
        ["verify-full"] = "VerifyFull",
    };

    private readonly string _value;

    private PostgresConnectionString(NpgsqlConnectionStringBuilder builder)
    {
        _value = builder.ConnectionString;
        Host = builder.Host ?? string.Empty;
        Port = builder.Port;
        Database = builder.Database;
        Username = builder.Username;
        HasPassword = !string.IsNullOrEmpty(builder.Password);
        Redacted = RedactBuilder(builder);
    }

    /// <summary>The server's host name or address (several, comma-separated, for a multi-host string).</summary>
    public string Host { get; }

    /// <summary>The server's port.</summary>
    public int Port { get; }

    /// <summary>The database, or null for Npgsql's default (the user's name).</summary>
    public string? Database { get; }

    /// <summary>The user name, or null for Npgsql's default.</summary>
    public string? Username { get; }

    /// <summary>Whether the connection string carries a password.</summary>
    public bool HasPassword { get; }

    /// <summary>The connection string in Npgsql's keyword form with every secret replaced by <see cref="Mask"/>.</summary>
    public string Redacted { get; }

    /// <summary>Parses <paramref name="value"/>; the exception's message never repeats a secret.</summary>
    /// <exception cref="FormatException">The value is not a PostgreSQL connection string.</exception>
    public static PostgresConnectionString Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryParse(value, out var result, out var error) ? result : throw new FormatException(error);
    }

    /// <summary>Parses <paramref name="value"/>; on failure <paramref name="error"/> says what is wrong without repeating a secret.</summary>
    public static bool TryParse(
        string? value,
        [NotNullWhen(true)] out PostgresConnectionString? result,
        [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = $"The PostgreSQL connection string is empty: {Usage}.";
            return false;
        }

        var text = value.Trim();
        var problems = new List<string>();
        var builder = IsUri(text) ? FromUri(text, problems) : FromKeywords(text, problems);
        if (problems.Count == 0 && string.IsNullOrWhiteSpace(builder.Host))
        {
            problems.Add("it names no host");
        }

        if (problems.Count > 0)
        {
            error = $"The PostgreSQL connection string is not valid: {string.Join("; ", problems)} ({Usage}).";
            return false;
        }

        result = new PostgresConnectionString(builder);
        error = null;
        return true;
    }

    /// <summary>
    /// Any connection string (URI or keyword form, valid or not) with its secrets masked, for a message
    /// that must show what the user gave. An unreadable string is not echoed at all.
    /// </summary>
    public static string Redact(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return string.Empty;
        }

        return TryParse(value, out var parsed, out _) ? parsed.Redacted : "(an unreadable connection string, not shown)";
    }

    /// <summary>The connection string for Npgsql, password included: hand it to Npgsql and nothing else.</summary>
    public string ToNpgsqlConnectionString() => _value;

    /// <summary>The same connection string for another database on the same server.</summary>
    public PostgresConnectionString WithDatabase(string database)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(database);
        return new PostgresConnectionString(new NpgsqlConnectionStringBuilder(_value) { Database = database });
    }

    /// <summary>
    /// The connection as a short <c>postgres://USER@HOST:PORT/DATABASE</c> line for logs and health reports: no password,
    /// no other setting.
    /// </summary>
    public string Display => string.Create(
        CultureInfo.InvariantCulture,
        $"postgres://{(Username is { Length: > 0 } user ? Uri.EscapeDataString(user) + "@" : string.Empty)}{(Host.Contains(':', StringComparison.Ordinal) && !Host.Contains(',', StringComparison.Ordinal) ? "[" + Host + "]" : Host)}:{Port}/{Uri.EscapeDataString(Database ?? string.Empty)}");

    /// <inheritdoc cref="Redacted" />
    public override string ToString() => Redacted;

    /// <summary>
    /// <paramref name="text"/> (e.g. a server's error message) with every occurrence of this connection's secrets
    /// masked: errors reach logs and users, and nothing may repeat the password, not even a server that quotes it.
    /// </summary>
    public string Scrub(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new NpgsqlConnectionStringBuilder(_value);
        foreach (var secret in new[] { builder.Password, builder.SslPassword })
        {
            if (!string.IsNullOrEmpty(secret))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal).Replace(Uri.EscapeDataString(secret), Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    private static bool IsUri(string text) =>
        text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
        text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    private static NpgsqlConnectionStringBuilder FromKeywords(string text, List<string> problems)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        DbConnectionStringBuilder pairs;
        try
        {
            pairs = new DbConnectionStringBuilder { ConnectionString = text };
        }
        catch (ArgumentException)
        {
            // The framework's message quotes the text around the fault, which may be the password.
            problems.Add("it is neither a postgres:// URI nor a list of KEY=VALUE pairs separated by ';'");
            return builder;
        }

        foreach (string key in pairs.Keys)
        {
            Set(builder, key, pairs[key]?.ToString() ?? string.Empty, problems);
        }

        return builder;
    }

    private static NpgsqlConnectionStringBuilder FromUri(string text, List<string> problems)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var fragment = rest.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            rest = rest[..fragment];
        }

        var query = string.Empty;
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        if (queryStart >= 0)
        {
            query = rest[(queryStart + 1)..];
            rest = rest[..queryStart];
        }

        var path = string.Empty;
        var pathStart = rest.IndexOf('/', StringComparison.Ordinal);
        if (pathStart >= 0)
        {
            path = rest[(pathStart + 1)..];
            rest = rest[..pathStart];
        }

        // The password may itself contain '@' when not percent-encoded: the host starts after the last one.
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            var user = colon >= 0 ? userInfo[..colon] : userInfo;
            if (user.Length > 0)
            {
                Set(builder, "Username", Decode(user), problems);
            }

            if (colon >= 0)
            {
                Set(builder, "Password", Decode(userInfo[(colon + 1)..]), problems);
            }
        }

        SetHosts(builder, rest, problems);
        if (path.Length > 0)
        {
            Set(builder, "Database", Decode(path), problems);
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals >= 0 ? pair[..equals] : pair);
            var parameterValue = equals >= 0 ? Decode(pair[(equals + 1)..]) : string.Empty;
            if (string.Equals(name, "sslmode", StringComparison.OrdinalIgnoreCase) && SslModes.TryGetValue(parameterValue, out var mode))
            {
                parameterValue = mode;
            }

            Set(builder, UriParameters.GetValueOrDefault(name, name), parameterValue, problems);
        }

        return builder;
    }

    private static void SetHosts(NpgsqlConnectionStringBuilder builder, string hosts, List<string> problems)
    {
        if (hosts.Length == 0)
        {
            return;
        }

        if (hosts.Contains(',', StringComparison.Ordinal))
        {
            // Several hosts: Npgsql reads "host:port,host:port" itself.
            Set(builder, "Host", Decode(hosts), problems);
            return;
        }

        var host = hosts;
        string? port = null;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                problems.Add("its host starts an IPv6 address with '[' but never closes it");
                return;
            }

            port = close + 1 < host.Length && host[close + 1] == ':' ? host[(close + 2)..] : null;
            host = host[1..close];
        }
        else
        {
            var colon = host.LastIndexOf(':');
            if (colon >= 0)
            {
                port = host[(colon + 1)..];
                host = host[..colon];
            }
        }

        Set(builder, "Host", Decode(host), problems);
        if (!string.IsNullOrEmpty(port))
        {
            if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and <= 65535)
            {
                builder.Port = number;
            }
            else
            {
                problems.Add($"its port '{port}' is not a number from 1 to 65535");
            }
        }
    }

    private static void Set(NpgsqlConnectionStringBuilder builder, string key, string value, List<string> problems)
    {
        try
        {
            builder[key] = value;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Npgsql's messages can quote the value; name only the key, and show the value only where it is not secret.
            problems.Add(IsSecret(key) || !builder.ContainsKey(key)
                ? $"'{key}' is not a setting Npgsql knows, or its value is not valid"
                : $"the value of '{key}' is not valid");
        }
    }

    private static bool IsSecret(string key) =>
        key.Contains("password", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("Passfile", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("SSL Key", StringComparison.OrdinalIgnoreCase);

    private static string RedactBuilder(NpgsqlConnectionStringBuilder builder)
    {
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        var masked = new List<string>();
        foreach (string key in builder.Keys)
        {
            if (IsSecret(key) && builder.TryGetValue(key, out var secret) && secret is not null && !string.IsNullOrEmpty(secret.ToString()))
            {
                copy.Remove(key);
                masked.Add(key);
            }
        }

        var text = new StringBuilder(copy.ConnectionString);
        foreach (var key in masked)
        {
            text.Append(text.Length > 0 ? ";" : string.Empty).Append(key).Append('=').Append(Mask);
        }

        return text.ToString();
    }

    private static string Decode(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            return value;
        }
    }
}
