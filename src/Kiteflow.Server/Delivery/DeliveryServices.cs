using System.Collections.Concurrent;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Delivery.Pacing;
using Kiteflow.Delivery.Sending;
using Kiteflow.Server.Credentials;
using Kiteflow.Server.Datasets;
using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>What every destination worker of this process shares: the store, one HTTP client, the budget grains, the clock.</summary>
internal sealed class DeliveryServices(
    IKiteflowStore store,
    ServerCredentials credentials,
    IDatasetAppendSignal signal,
    DatasetAppender appender,
    IGrainFactory grains,
    KiteflowMetrics metrics,
    ILoggerFactory loggers,
    ServerOptions options,
    Hosting.SiloIdentity identity) : IDisposable
{
    // One check per token, shared by every worker that asks while it is under way (a failed or abandoned one is forgotten).
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _tokenUsers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<DestinationWorker, bool> _workers = new();

    public IKiteflowStore Store => store;

    public ServerCredentials Credentials => credentials;

    public IDatasetAppendSignal Signal => signal;

    public KiteflowMetrics Metrics => metrics;

    public ILoggerFactory Loggers => loggers;

    public TimeProvider Time => options.TimeProvider;

    /// <summary>How long calls in flight get to be answered when a destination is paused or the server stops.</summary>
    public TimeSpan StopGracePeriod => options.DeliveryStopGracePeriod;

    // The connections every destination shares.
    private readonly SocketsHttpHandler _connections = DeliveryHttp.CreateHandler(concurrency: 256);

    /// <summary>One client for every destination: no redirects (the token stays with its host), no overall timeout (each attempt has its own).</summary>
    public HttpClient Client => field ??= DeliveryHttp.Create(concurrency: 256, new LeaseGatedHandler(_connections, lease: null));

    /// <summary>How long a destination worker's lease runs unless renewed (renewed every quarter of it).</summary>
    public TimeSpan Lease => options.DeliveryLease;

    /// <summary>
    /// How often a waiting worker also looks in the store for records another process appended (an api silo ingests
    /// them); null on SQLite, whose file only this process appends to, where the in-process signal is enough.
    /// </summary>
    public TimeSpan? AppendPollInterval => identity.Clustered ? options.AppendPollInterval : null;

    /// <summary>A client over the shared connections whose requests leave only while <paramref name="lease"/> is valid.</summary>
    public HttpClient CreateClient(DestinationLease lease) => DeliveryHttp.Create(concurrency: 256, new LeaseGatedHandler(_connections, lease));

    /// <summary>The budgets of the organizations and users of one API host, shared by the whole cluster.</summary>
    public IRateLimitBudgetSource Budgets(Uri apiBase) => new GrainBudgetSource(grains, options.TimeProvider, apiBase.Authority);

    /// <summary>
    /// Who a token belongs to, for the user budget (two tokens of one user share that user's limit): asked of Buildkite
    /// once per token (<c>GET /v2/access-token</c>), which also proves the token works before anything is sent. The call
    /// is not paced by the budgets but counts against the limits, so workers that start together (several activated at
    /// once, every active destination on a restart) wait for one call instead of each making it.
    /// </summary>
    /// <exception cref="CredentialException">The token is refused.</exception>
    public async Task<string> TokenUserAsync(Credential credential, CancellationToken cancellationToken)
    {
        var cacheKey = TokenKey(credential);
        while (true)
        {
            var entry = _tokenUsers.GetOrAdd(cacheKey, _ => new Lazy<Task<string>>(() => AskTokenUserAsync(credential, cancellationToken)));
            var check = entry.Value;
            try
            {
                return await check.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (check.IsFaulted || check.IsCanceled)
            {
                // Not kept: the next attempt asks again. A check abandoned by the worker that started it is asked again
                // by the others.
                _tokenUsers.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(cacheKey, entry));
                if (check.IsCanceled && !cancellationToken.IsCancellationRequested)
                {
                    continue;
                }

                throw;
            }
        }
    }

    /// <summary>
    /// Keeps who a token belongs to from a check already made (an activation's), so no worker — in this process or,
    /// through the cluster's <see cref="ITokenUserGrain"/>, another — asks again.
    /// </summary>
    public void RememberTokenUser(Credential credential, TokenInfo token)
    {
        var user = UserOf(token);
        _tokenUsers[TokenKey(credential)] = new Lazy<Task<string>>(Task.FromResult(user));
        _ = TellClusterAsync(credential, user);
    }

    private async Task<string> AskTokenUserAsync(Credential credential, CancellationToken cancellationToken)
    {
        try
        {
            if (await TokenUserGrain(credential).GetAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false) is { } known)
            {
                return known;
            }
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // The cluster cannot say now (its silo just left): Buildkite is asked.
        }

        var result = await new AccessTokenClient(Client).GetWaitingOutRateLimitAsync(credential, Time, checks: 3, longestWait: TimeSpan.FromMinutes(1), waiting: null, cancellationToken).ConfigureAwait(false);
        if (!result.IsValid)
        {
            throw new CredentialException(CredentialErrorKind.Unreadable, $"the credential '{credential.Name}' does not work: {result.Message}");
        }

        var user = UserOf(result.Token!);
        await TellClusterAsync(credential, user).ConfigureAwait(false);
        return user;
    }

    private async Task TellClusterAsync(Credential credential, string user)
    {
        try
        {
            await TokenUserGrain(credential).SetAsync(user).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // Only a cache: a worker that cannot read it asks Buildkite.
        }
    }

    private ITokenUserGrain TokenUserGrain(Credential credential) => grains.GetGrain<ITokenUserGrain>(TokenKey(credential).Replace('\n', '|'));

    private static string UserOf(TokenInfo token) => token.UserEmail ?? token.UserName ?? token.Uuid;

    private static string TokenKey(Credential credential) =>
        credential.ApiBase.Authority + "\n" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(credential.RevealToken())));

    /// <summary>The destination's response dataset (<c>{name}-responses</c>), created when it is missing, as a sink.</summary>
    public async Task<ResponseDatasetSink> ResponseSinkAsync(DestinationRow row, ILogger logger, CancellationToken cancellationToken)
    {
        var dataset = await ResponseDatasetAsync(row.Name, cancellationToken).ConfigureAwait(false);
        return new ResponseDatasetSink(appender, dataset, logger);
    }

    /// <summary>The response dataset of the destination <paramref name="destination"/>, created when it is missing.</summary>
    public async Task<DatasetRow> ResponseDatasetAsync(string destination, CancellationToken cancellationToken)
    {
        var name = ResponseDatasetName(destination);
        if (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        try
        {
            // Nobody ingests into a response dataset over HTTP: its ingest key is random and never shown.
            var key = Security.Secrets.NewIngestKey();
            return await store.Datasets.CreateAsync(new NewDataset(name, DatasetSource.Response, new IngestKeySettings(Security.Secrets.Hash(key), Security.Secrets.ShownPrefix(key), RequireSignature: false), options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException e) when (e.Conflict == StoreConflict.NameTaken)
        {
            return (await store.Datasets.GetAsync(name, cancellationToken).ConfigureAwait(false))!;
        }
    }

    /// <summary>
    /// Stops every destination worker of this process at once, each gracefully (nothing new is claimed, the calls in
    /// flight are answered and recorded, up to the grace period), and returns when all have stopped. The server does
    /// this when it shuts down, before the silo: Orleans' own deactivation of grains at shutdown does not wait for a
    /// worker's calls in flight, so a stop left to it could end the process with answered calls still unrecorded.
    /// </summary>
    public Task StopWorkersAsync(string reason) => Task.WhenAll(_workers.Keys.Select(worker => worker.StopAsync(reason)));

    /// <summary>The workers of this process that deliver (not stopping, not stopped).</summary>
    internal IReadOnlyList<DestinationWorker> RunningWorkers => _workers.Keys.Where(w => !w.Stopped && w.State is not ("stopping" or "stopped" or "fenced")).ToList();

    /// <summary>A worker started in this process.</summary>
    internal void Track(DestinationWorker worker)
    {
        if (_workers.TryAdd(worker, true))
        {
            WorkerStarted?.Invoke();
        }
    }

    /// <summary>Raised when a worker starts in this process (the balancer then looks whether this silo has too many).</summary>
    internal event Action? WorkerStarted;

    /// <summary>A worker of this process that has stopped.</summary>
    internal void Untrack(DestinationWorker worker) => _workers.TryRemove(worker, out _);

    /// <summary>The name of a destination's response dataset.</summary>
    public static string ResponseDatasetName(string destination) => destination + "-responses";

    public void Dispose()
    {
        Client.Dispose();
        _connections.Dispose();
    }
}
