namespace Kiteflow.Sandbox;

/// <summary>How a <see cref="SandboxServer"/> starts. Every property has a working default.</summary>
public sealed class SandboxOptions
{
    /// <summary>The TCP port on 127.0.0.1; 0 (the default) picks a free one. The sandbox never binds another address.</summary>
    public int Port { get; set; }

    /// <summary>
    /// A JSON seed file (organizations, users, pipelines, agents, clusters, teams, tokens; see docs/sandbox.md);
    /// <see langword="null"/> (the default) loads the built-in seed: organization <c>acme</c>.
    /// </summary>
    public string? SeedFile { get; set; }

    /// <summary>Tokens accepted besides the seed's, e.g. from <c>--token TOKEN:scope,scope</c>. Empty by default.</summary>
    public IList<SandboxToken> Tokens { get; } = [];

    /// <summary>The per-organization limit. Default: 200 requests per 60 s, as Buildkite's.</summary>
    public RateLimitSetting OrganizationLimit { get; set; } = RateLimitSetting.DefaultOrganization;

    /// <summary>The per-user limit. Default: 50 requests per 60 s, as Buildkite's.</summary>
    public RateLimitSetting UserLimit { get; set; } = RateLimitSetting.DefaultUser;

    /// <summary>How both limits count requests. Default: <see cref="RateLimitWindowKind.Fixed"/>.</summary>
    public RateLimitWindowKind RateLimitWindow { get; set; } = RateLimitWindowKind.Fixed;

    /// <summary>A JSON file of fault rules (<c>{"rules": [...]}</c>) applied from the start; <see langword="null"/> by default.</summary>
    public string? FaultsFile { get; set; }

    /// <summary>Fault rules applied from the start, after those of <see cref="FaultsFile"/>. Empty by default.</summary>
    public IList<SandboxFaultRule> Faults { get; } = [];

    /// <summary>
    /// Seeds the random numbers behind fault probabilities and generated ids, so that a run can be replayed;
    /// <see langword="null"/> (the default) draws them from the system.
    /// </summary>
    public int? RandomSeed { get; set; }

    /// <summary>The clock for rate-limit windows, timestamps and fault delays. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The largest request body accepted; a larger one is answered 413. Default: 10 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>How many requests <c>GET {base}/_sandbox/requests</c> keeps, oldest dropped first. Default: 10,000.</summary>
    public int RequestLogCapacity { get; set; } = 10_000;

    /// <summary>How many characters of each request body the request log keeps. Default: 16,384.</summary>
    public int RequestLogBodyLimit { get; set; } = 16 * 1024;

    /// <summary>
    /// Whether a request body must be sent as <c>application/json</c> (Buildkite documents JSON bodies only).
    /// Default: <see langword="true"/>; a form or other body is answered 415.
    /// </summary>
    public bool RequireJsonContentType { get; set; } = true;

    /// <summary>
    /// The API base written into <c>url</c>-like fields of responses, e.g. <c>https://api.buildkite.com</c>;
    /// <see langword="null"/> (the default) uses the sandbox's own <see cref="SandboxServer.BaseAddress"/>, so a client that
    /// follows a link stays in the sandbox. <c>web_url</c> fields always point at <c>https://buildkite.com</c>.
    /// </summary>
    public Uri? ApiUrlBase { get; set; }

    /// <summary>Checks every setting and reports all problems at once.</summary>
    /// <exception cref="ArgumentException">One or more settings are invalid; the message names each.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (Port is < 0 or > 65535)
        {
            errors.Add($"Port: {Port} is not a TCP port; use 0 for a free port or 1-65535.");
        }

        if (SeedFile is not null && !File.Exists(SeedFile))
        {
            errors.Add($"SeedFile: '{SeedFile}' does not exist; give the path of a JSON seed file.");
        }

        if (FaultsFile is not null && !File.Exists(FaultsFile))
        {
            errors.Add($"FaultsFile: '{FaultsFile}' does not exist; give the path of a JSON faults file.");
        }

        if (OrganizationLimit.Limit < 1)
        {
            errors.Add("OrganizationLimit: not set; give e.g. 200/60s.");
        }

        if (UserLimit.Limit < 1)
        {
            errors.Add("UserLimit: not set; give e.g. 50/60s.");
        }

        if (MaxRequestBodyBytes < 1)
        {
            errors.Add($"MaxRequestBodyBytes: {MaxRequestBodyBytes} must be positive.");
        }

        if (RequestLogCapacity < 1)
        {
            errors.Add($"RequestLogCapacity: {RequestLogCapacity} must be positive.");
        }

        if (RequestLogBodyLimit < 0)
        {
            errors.Add($"RequestLogBodyLimit: {RequestLogBodyLimit} must be 0 or more.");
        }

        if (ApiUrlBase is not null && !ApiUrlBase.IsAbsoluteUri)
        {
            errors.Add($"ApiUrlBase: '{ApiUrlBase}' must be an absolute URL, e.g. https://api.buildkite.com.");
        }

        for (var i = 0; i < Faults.Count; i++)
        {
            errors.AddRange(Faulting.FaultRules.Validate(Faults[i], $"Faults[{i}]"));
        }

        if (TimeProvider is null)
        {
            errors.Add("TimeProvider: must not be null; use TimeProvider.System.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid sandbox options:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
    }
}
