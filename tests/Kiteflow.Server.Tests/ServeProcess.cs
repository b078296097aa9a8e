using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Kiteflow.Server.Tests;

/// <summary>
/// A real <c>kiteflow serve</c> process (the built executable) on a free loopback port over a data folder, for
/// SIGTERM and kill -9. It is ready once it printed <c>Kiteflow is listening on …</c>.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    public const string AdminPassword = "process-admin-password-1";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reading;

    private ServeProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        _reading = Task.WhenAll(PumpOutput(process.StandardOutput), Pump(process.StandardError, _error));
    }

    public Uri BaseAddress { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything written on stderr so far (the logs).</summary>
    public string Errors
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Everything written on stdout so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>kiteflow serve --data <paramref name="dataDirectory"/></c> and waits until it listens.</summary>
    public static Task<ServeProcess> StartAsync(string dataDirectory, params string[] extraArgs) => StartAsync(dataDirectory, new Dictionary<string, string>(), extraArgs);

    /// <summary>Starts <c>kiteflow serve --data <paramref name="dataDirectory"/></c> with <paramref name="environment"/> added, and waits until it listens.</summary>
    public static async Task<ServeProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dataDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        foreach (var arg in (string[])["serve", "--urls", $"http://127.0.0.1:{port}", "--data", dataDirectory, .. extraArgs])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KITEFLOW_HOME"] = dataDirectory;
        start.Environment["KITEFLOW_ADMIN_PASSWORD"] = AdminPassword;
        start.Environment.Remove("KITEFLOW_MASTER_KEY");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var server = new ServeProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
        var ended = server._process.WaitForExitAsync();
        if (await Task.WhenAny(server._listening.Task, ended).WaitAsync(TimeSpan.FromMinutes(2)) != server._listening.Task)
        {
            var (code, output, error) = await server.WaitAsync();
            server.Dispose();
            Assert.Fail($"kiteflow serve ended with {code} before it listened:\n{output}\n{error}");
        }

        return server;
    }

    /// <summary>Logs in as the admin with the password and creates an API key (bearer) for the tests' calls; keys outlive restarts.</summary>
    public async Task<string> CreateApiKeyAsync()
    {
        using var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer() }) { BaseAddress = BaseAddress };
        var login = await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = AdminPassword });
        Assert.True(login.IsSuccessStatusCode, await login.Content.ReadAsStringAsync());
        client.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)(await login.Content.ReadFromJsonAsync<JsonNode>())!["antiforgeryToken"]!);
        var created = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "process-tests" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return (string)(await created.Content.ReadFromJsonAsync<JsonNode>())!["key"]!;
    }

    /// <summary>Sends a signal by name (TERM, INT) with the system's own <c>kill</c>.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-s", name, Id.ToString(CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>kill -9: no chance to tidy up.</summary>
    public async Task KillAsync()
    {
        Signal("KILL");
        await WaitAsync();
    }

    /// <summary>Waits (generously, not as a timing) for the process to end: its exit code, stdout and stderr.</summary>
    public async Task<(int ExitCode, string Output, string Error)> WaitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        await _reading.WaitAsync(TimeSpan.FromMinutes(1));
        return (_process.ExitCode, Output, Errors);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task PumpOutput(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (line.StartsWith("Kiteflow is listening on", StringComparison.Ordinal))
            {
                _listening.TrySetResult();
            }
        }
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, read);
            }
        }
    }
}
