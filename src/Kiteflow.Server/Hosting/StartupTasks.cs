using Kiteflow.Delivery.Credentials;
using Kiteflow.Sandbox;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Credentials;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Identity;

namespace Kiteflow.Server.Hosting;

/// <summary>
/// What must be true before the server takes requests, run before it starts listening: the store migrated, the embedded
/// sandbox started and its credential pointed at it, and — with <see cref="ServerOptions.SeedExample"/> — the seeded
/// example added to a store without datasets. Once it listens: the first user created (its password printed once).
/// A worker silo only migrates the store. On stop: the sandbox stops after the server has stopped taking requests.
/// </summary>
internal sealed class StartupTasks(
    IKiteflowStore store,
    ServerOptions options,
    ServerCredentials credentials,
    EmbeddedSandbox sandbox,
    IAuditLog audit,
    ExampleSeed example,
    SiloIdentity identity,
    ILogger<StartupTasks> logger) : IHostedLifecycleService
{
    public const string AdminName = "admin";

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var version = await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        Log.StoreReady(logger, store.Description, version);
        if (!identity.ServesApi)
        {
            // A worker serves no API: the first user, the sandbox and the example are the api silos' to make.
            return;
        }

        if (options.EmbeddedSandbox)
        {
            await sandbox.StartAsync(options.Sandbox, cancellationToken).ConfigureAwait(false);
            await KeepSandboxCredentialAsync(sandbox.Server!.BaseAddress, cancellationToken).ConfigureAwait(false);
        }

        if (options.SeedExample)
        {
            await example.SeedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The first user is made once the server listens: a start that fails (its address taken, say) must not make an
    /// account whose one-time password went by with the error, leaving a store nobody can log in to.
    /// </summary>
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (identity.ServesApi)
        {
            await CreateAdminAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken) => await sandbox.DisposeAsync().ConfigureAwait(false);

    private async Task CreateAdminAsync(CancellationToken cancellationToken)
    {
        if (await store.Users.CountAsync(cancellationToken).ConfigureAwait(false) > 0)
        {
            await ResetAdminPasswordAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var generated = string.IsNullOrEmpty(options.AdminPassword);
        var password = generated ? Secrets.NewPassword() : options.AdminPassword!;
        var hash = new PasswordHasher<UserRow>().HashPassword(null!, password);
        await store.Users.CreateAsync(AdminName, hash, AuthSchemes.AdminRole, options.TimeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        Log.AdminCreated(logger, AdminName);
        await audit.RecordAsync(Actors.System, "user.create", "user", AdminName, new() { ["role"] = AuthSchemes.AdminRole, ["passwordFrom"] = generated ? "generated" : "KITEFLOW_ADMIN_PASSWORD" }, cancellationToken).ConfigureAwait(false);

        // Printed, never logged: stdout is the terminal of the person who started the server; logs may travel further.
        var output = options.Output ?? Console.Out;
        output.WriteLine(generated
            ? $"Created the user '{AdminName}' with the one-time password: {password}  (shown only now; change it with PUT /api/v1/session/password)"
            : $"Created the user '{AdminName}' with the password from KITEFLOW_ADMIN_PASSWORD.");
        output.Flush();
    }

    /// <summary>
    /// The way back to a lost admin password: <c>KITEFLOW_ADMIN_PASSWORD</c> on a later start sets it (said once, audited);
    /// the same password as before changes nothing.
    /// </summary>
    private async Task ResetAdminPasswordAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(options.AdminPassword) || await store.Users.GetAsync(AdminName, cancellationToken).ConfigureAwait(false) is not { } admin)
        {
            return;
        }

        var hasher = new PasswordHasher<UserRow>();
        if (hasher.VerifyHashedPassword(admin, admin.PasswordHash, options.AdminPassword) != PasswordVerificationResult.Failed)
        {
            return;
        }

        await store.Users.SetPasswordHashAsync(admin.Id, hasher.HashPassword(admin, options.AdminPassword), cancellationToken).ConfigureAwait(false);
        await audit.RecordAsync(Actors.System, "user.password.reset", "user", AdminName, new() { ["passwordFrom"] = "KITEFLOW_ADMIN_PASSWORD" }, cancellationToken).ConfigureAwait(false);
        var output = options.Output ?? Console.Out;
        output.WriteLine($"Set the password of the user '{AdminName}' from KITEFLOW_ADMIN_PASSWORD.");
        output.Flush();
    }

    private async Task KeepSandboxCredentialAsync(Uri baseAddress, CancellationToken cancellationToken)
    {
        var apiBase = CredentialRules.NormalizeApiBase(baseAddress);
        var secret = credentials.Seal(EmbeddedSandbox.CredentialName, apiBase, SandboxServer.DefaultToken);
        var existing = await store.Credentials.GetAsync(EmbeddedSandbox.CredentialName, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            await store.Credentials.CreateAsync(new NewCredential(EmbeddedSandbox.CredentialName, CredentialKind.Sandbox, apiBase.OriginalString, secret, options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            await audit.RecordAsync(Actors.System, "credential.create", "credential", EmbeddedSandbox.CredentialName, new() { ["apiBase"] = apiBase.OriginalString, ["kind"] = "sandbox" }, cancellationToken).ConfigureAwait(false);
        }
        else if (existing.Kind == CredentialKind.Sandbox)
        {
            // The sandbox listens on a new port every start: point the credential there (the token is sealed with its API base).
            await store.Credentials.ReplaceSecretAsync(existing.Id, apiBase.OriginalString, secret, options.TimeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            Log.SandboxCredentialSkipped(logger, $"a credential named '{EmbeddedSandbox.CredentialName}' exists and points at {existing.ApiBase}; it is left as it is");
            return;
        }

        Log.SandboxStarted(logger, baseAddress, EmbeddedSandbox.CredentialName);
    }
}
