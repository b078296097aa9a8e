using System.Net;
using Kiteflow.Sandbox.Api;
using Kiteflow.Sandbox.Api.Endpoints;
using Kiteflow.Sandbox.Faulting;
using Kiteflow.Sandbox.Hosting;
using Kiteflow.Sandbox.Inspection;
using Kiteflow.Sandbox.Seeding;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Kiteflow.Sandbox;

/// <summary>
/// A running sandbox: an emulator of the Buildkite REST API on 127.0.0.1, over real HTTP.
/// Point any Buildkite client at <see cref="BaseAddress"/> (the API is under <c>{base}/v2/</c>) with
/// <see cref="DefaultToken"/>; see docs/sandbox.md.
/// </summary>
public sealed class SandboxServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SandboxRuntime _runtime;
    private int _disposed;

    private SandboxServer(WebApplication app, SandboxRuntime runtime, Uri baseAddress)
    {
        _app = app;
        _runtime = runtime;
        BaseAddress = baseAddress;
    }

    /// <summary>The sandbox's address, e.g. <c>http://127.0.0.1:43121/</c>; requests go to <c>{base}/v2/...</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>
    /// The built-in seed's token: every scope, owned by the administrator of organization <c>acme</c>.
    /// Only valid with the built-in seed (a seed file brings its own tokens).
    /// </summary>
    public static string DefaultToken => SeedLoader.AdminToken;

    internal SandboxRuntime Runtime => _runtime;

    /// <summary>Starts a sandbox and returns once it accepts requests.</summary>
    /// <param name="options">How to start; validated first.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running sandbox; dispose it to stop.</returns>
    /// <exception cref="ArgumentException">The options, the seed or the faults file are invalid; the message lists every problem.</exception>
    public static async Task<SandboxServer> StartAsync(SandboxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var seed = SeedLoader.Read(options.SeedFile);
        var runtime = new SandboxRuntime(options, seed);
        var rules = new List<SandboxFaultRule>();
        if (options.FaultsFile is not null)
        {
            rules.AddRange(FaultRules.Parse(await File.ReadAllTextAsync(options.FaultsFile, cancellationToken).ConfigureAwait(false), out var errors));
            if (errors.Count > 0)
            {
                runtime.Dispose();
                throw new ArgumentException($"Faults file '{options.FaultsFile}' is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
            }
        }

        rules.AddRange(options.Faults);
        runtime.Faults.Set(rules);

        // The empty builder reads no appsettings, environment variables or command line, so nothing on the
        // machine can move the sandbox off loopback or turn on HTML error pages; and it starts fast.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null; // The middleware enforces the cap and answers 413 in JSON.
            kestrel.Listen(IPAddress.Loopback, options.Port);
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddSingleton(runtime);

        var app = builder.Build();
        app.UseMiddleware<SandboxMiddleware>();
        app.UseRouting();
        var api = new ApiRunner(runtime);
        AccountEndpoints.Map(app, api, runtime);
        PipelineEndpoints.Map(app, api);
        BuildEndpoints.Map(app, api);
        AnnotationEndpoints.Map(app, api);
        JobEndpoints.Map(app, api);
        ScheduleEndpoints.Map(app, api);
        AgentEndpoints.Map(app, api);
        ClusterEndpoints.Map(app, api);
        TeamEndpoints.Map(app, api);
        ControlEndpoints.Map(app, runtime);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            runtime.Dispose();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var baseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        runtime.Urls.ApiBase = (options.ApiUrlBase ?? baseAddress).ToString();
        return new SandboxServer(app, runtime, baseAddress);
    }

    /// <summary>Accepts one more token from now on (until <see cref="Reset"/>).</summary>
    /// <param name="token">The token and its scopes.</param>
    /// <exception cref="ArgumentException">The token names a user the seed does not have.</exception>
    public void AddToken(SandboxToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        lock (_runtime.Store.Gate)
        {
            _runtime.Store.AddToken(token);
        }
    }

    /// <summary>Replaces the fault rules; the first matching rule that fires applies to a request.</summary>
    /// <param name="rules">The rules, in order.</param>
    /// <exception cref="ArgumentException">A rule is invalid; the message lists every problem.</exception>
    public void SetFaults(IEnumerable<SandboxFaultRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var list = rules.ToList();
        var errors = list.SelectMany((r, i) => FaultRules.Validate(r, $"rules[{i}]")).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid fault rules:" + Environment.NewLine + string.Join(Environment.NewLine, errors), nameof(rules));
        }

        _runtime.Faults.Set(list);
    }

    /// <summary>Removes every fault rule.</summary>
    public void ClearFaults() => _runtime.Faults.Clear();

    /// <summary>
    /// Restores the seed: organizations, pipelines (builds gone), agents, clusters, teams and the tokens of the seed and the options
    /// (tokens added at run time are dropped); clears the rate-limit windows. Faults and the request log are kept.
    /// </summary>
    public void Reset() => _runtime.Reset();

    /// <summary>The same document as <c>GET {base}/_sandbox/state</c>, as text.</summary>
    /// <returns>Organizations with their pipelines, builds, annotations, agents, clusters, teams and users.</returns>
    public string GetStateJson()
    {
        return ControlEndpoints.State(_runtime, null, null).ToJsonString(Formats.Json);
    }

    /// <summary>Stops the sandbox: hung and delayed requests end at once, then the server stops.</summary>
    /// <returns>A task that completes once stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _runtime.SignalStopping();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _runtime.Dispose();
        }
    }
}
