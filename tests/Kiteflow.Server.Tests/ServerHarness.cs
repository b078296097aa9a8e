using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kiteflow.Server.Tests;

/// <summary>A real server on a real loopback socket (port 0), over real SQLite files in a temporary folder.</summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    public const string AdminPassword = "test-admin-password-1";

    private readonly bool _ownsDirectory;

    private ServerHarness(WebApplication app, string dataDirectory, bool ownsDirectory, LogCapture logs, StringWriter output)
    {
        App = app;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        Logs = logs;
        Output = output;
        BaseAddress = new Uri(app.Urls.First());
    }

    public WebApplication App { get; }

    public string DataDirectory { get; }

    public LogCapture Logs { get; }

    public StringWriter Output { get; }

    public Uri BaseAddress { get; }

    public T Service<T>()
        where T : notnull => App.Services.GetRequiredService<T>();

    public static async Task<ServerHarness> StartAsync(Action<ServerOptions>? configure = null, string? dataDirectory = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "kiteflow-server-test-" + Guid.NewGuid().ToString("N"));
        var logs = new LogCapture();
        var output = new StringWriter();
        var options = new ServerOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = dataDirectory,
            AdminPassword = AdminPassword,
            Output = output,
            Environment = _ => null,

            // Free loopback ports: a server on PostgreSQL would take Orleans' fixed defaults, which tests running at once share.
            SiloPort = FreePort(),
            GatewayPort = FreePort(),
            SiloAddress = System.Net.IPAddress.Loopback,
            ConfigureBuilder = builder => builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace),
        };
        configure?.Invoke(options);

        // A port found free may be taken by another test before the silo binds it: start again on others (the server
        // itself does so only for ports it found, and these are given).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var app = await KiteflowServer.StartAsync(options, CancellationToken.None);
                return new ServerHarness(app, dataDirectory, owns, logs, output);
            }
            catch (Microsoft.AspNetCore.Connections.AddressInUseException) when (attempt < 3)
            {
                options.SiloPort = FreePort();
                options.GatewayPort = FreePort();
            }
        }
    }

    public HttpClient Anonymous() => new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = BaseAddress };

    /// <summary>A client logged in with the password: it keeps the session cookie and sends the antiforgery token.</summary>
    public async Task<HttpClient> LoginAsync(bool sendAntiforgeryToken = true)
    {
        var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer() }) { BaseAddress = BaseAddress };
        var response = await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = AdminPassword });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["antiforgeryToken"]!;
        if (sendAntiforgeryToken)
        {
            client.DefaultRequestHeaders.Add("X-CSRF-TOKEN", token);
        }

        return client;
    }

    /// <summary>A client with a new API key as its bearer token, and the key.</summary>
    public async Task<(HttpClient Client, string Key)> ApiKeyClientAsync()
    {
        using var session = await LoginAsync();
        var created = await session.PostAsJsonAsync("/api/v1/api-keys", new { name = "tests" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = (string)(await created.Content.ReadFromJsonAsync<JsonNode>())!["key"]!;
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return (client, key);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsDirectory)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    /// <summary>Every log line the server wrote, formatted, with exceptions.</summary>
    internal sealed class LogCapture : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // The structured values too: a token could hide in an argument the message does not show.
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {values} {exception}");
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
