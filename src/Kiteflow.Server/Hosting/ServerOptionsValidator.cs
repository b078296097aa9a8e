using Microsoft.Extensions.Options;

namespace Kiteflow.Server.Hosting;

/// <summary>Checks <see cref="ServerOptions"/> and reports every problem at once, each naming its option.</summary>
internal sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public static IReadOnlyList<string> Problems(ServerOptions options)
    {
        var problems = new List<string>();
        var urls = (options.Urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
        {
            problems.Add("--urls: give at least one address, e.g. http://127.0.0.1:5080.");
        }

        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                problems.Add($"--urls: '{url}' is not an address to listen on; use scheme, host and port, e.g. http://127.0.0.1:5080.");
            }
        }

        if (options.Store is { } store && !StoreLocation.TryParse(store, out _, out var storeProblem))
        {
            problems.Add(storeProblem);
        }

        var postgres = options.Store is { } named && StoreLocation.TryParse(named, out var parsed, out _) && parsed.Postgres is not null;
        if (options.Role != ServerRole.All && !postgres)
        {
            problems.Add($"--role: {options.Role.ToString().ToLowerInvariant()} is a role in a cluster, which needs a PostgreSQL store; give --store postgres://… or leave --role at all.");
        }

        if (options.SiloPort is { } siloPort && siloPort is < 1 or > 65535)
        {
            problems.Add($"--silo-port: {siloPort} is not a TCP port; use 1 to 65535.");
        }

        if (options.GatewayPort is { } gatewayPort && gatewayPort is < 1 or > 65535)
        {
            problems.Add($"--gateway-port: {gatewayPort} is not a TCP port; use 1 to 65535.");
        }

        if (options.SiloPort is { } silo && silo == options.GatewayPort)
        {
            problems.Add($"--gateway-port: {silo} is also the silo port; the two need different ports.");
        }

        if (options.SiloName is { } siloName && (string.IsNullOrWhiteSpace(siloName) || siloName.Length > 100))
        {
            problems.Add("--silo-name: give a name of 1 to 100 characters, or leave it out for host:silo-port.");
        }

        if (options.MembershipProbeTimeout < TimeSpan.FromMilliseconds(500))
        {
            problems.Add($"MembershipProbeTimeout: {options.MembershipProbeTimeout} must be at least 0.5 s.");
        }

        if (options.MembershipMissedProbes is < 1 or > 10)
        {
            problems.Add($"MembershipMissedProbes: {options.MembershipMissedProbes} must be 1 to 10.");
        }

        if (options.RebalanceInterval < TimeSpan.FromSeconds(1))
        {
            problems.Add($"RebalanceInterval: {options.RebalanceInterval} must be at least 1 s.");
        }

        if (options.DeliveryLease < TimeSpan.FromSeconds(1))
        {
            problems.Add($"DeliveryLease: {options.DeliveryLease} must be at least 1 s.");
        }

        if (options.AppendPollInterval <= TimeSpan.Zero)
        {
            problems.Add($"AppendPollInterval: {options.AppendPollInterval} must be positive.");
        }

        if (options.AdminPassword is { Length: > 0 and < 8 })
        {
            problems.Add("KITEFLOW_ADMIN_PASSWORD: the password is shorter than 8 characters; choose a longer one.");
        }

        if (options.LoginFailuresPerUser < 1)
        {
            problems.Add($"LoginFailuresPerUser: {options.LoginFailuresPerUser} must be 1 or more.");
        }

        if (options.LoginFailuresPerAddress < 1)
        {
            problems.Add($"LoginFailuresPerAddress: {options.LoginFailuresPerAddress} must be 1 or more.");
        }

        if (options.LoginWindow <= TimeSpan.Zero)
        {
            problems.Add($"LoginWindow: {options.LoginWindow} must be positive.");
        }

        if (options.IngestMaxBodyBytes < 1024)
        {
            problems.Add($"IngestMaxBodyBytes: {options.IngestMaxBodyBytes} must be at least 1024.");
        }

        if (options.UploadBatchRecords is < 1 or > 100_000)
        {
            problems.Add($"UploadBatchRecords: {options.UploadBatchRecords} must be 1 to 100,000.");
        }

        if (options.EmbeddedSandbox)
        {
            try
            {
                options.Sandbox.Validate();
            }
            catch (ArgumentException e)
            {
                problems.Add($"Sandbox: {e.Message}");
            }
        }

        return problems;
    }

    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
