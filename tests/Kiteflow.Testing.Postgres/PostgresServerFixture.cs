using Xunit;

namespace Kiteflow.Testing.Postgres;

/// <summary>
/// The xUnit collection fixture: one throwaway <see cref="PostgresServer"/> for every test in a collection,
/// started before the first and stopped after the last. xUnit wants the collection definition in the test
/// assembly itself, so each test project declares one:
/// <code>
/// [CollectionDefinition(PostgresCollection.Name)]
/// public sealed class PostgresCollection : ICollectionFixture&lt;PostgresServerFixture&gt;
/// {
///     public const string Name = "postgres";
/// }
/// </code>
/// and its test classes take the fixture in their constructor under <c>[Collection(PostgresCollection.Name)]</c>.
/// Give each test its own database (<see cref="CreateDatabaseAsync"/>): creating one takes milliseconds.
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    /// <summary>How long starting the server may take before the fixture gives up.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private PostgresServer? _server;

    /// <summary>The running server.</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not started (or failed to start).");

    /// <summary>Creates an empty database and returns its Npgsql connection string (password included).</summary>
    public Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default) => Server.CreateDatabaseAsync(cancellationToken: cancellationToken);

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        _server = await PostgresServer.StartAsync(timeout.Token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
