namespace Kiteflow.Core.Catalog;

/// <summary>The catalog of Buildkite REST endpoints Kiteflow knows.</summary>
public sealed class EndpointCatalog
{
    private readonly Dictionary<string, EndpointDefinition> _byId = new(StringComparer.Ordinal);

    // An array, not the interface, so Match loops without allocating an enumerator.
    private readonly EndpointDefinition[] _endpoints;

    internal EndpointCatalog(IReadOnlyList<EndpointDefinition> endpoints)
    {
        _endpoints = [.. endpoints];
        Endpoints = _endpoints.AsReadOnly();
        foreach (var endpoint in endpoints)
        {
            foreach (var id in endpoint.Aliases.Prepend(endpoint.Id))
            {
                if (!_byId.TryAdd(id, endpoint))
                {
                    throw new ArgumentException($"The endpoint id '{id}' is used twice.", nameof(endpoints));
                }
            }
        }
    }

    /// <summary>The endpoints of the Buildkite REST API (v2) that Kiteflow knows.</summary>
    public static EndpointCatalog Buildkite { get; } = new(BuildkiteEndpoints.All);

    /// <summary>Every endpoint, in a stable order.</summary>
    public IReadOnlyList<EndpointDefinition> Endpoints { get; }

    /// <summary>Finds an endpoint by its id (<c>builds.create</c>) or by another name it is known by.</summary>
    /// <param name="id">The id, compared exactly.</param>
    /// <returns>The endpoint, or null when none has that id.</returns>
    public EndpointDefinition? Find(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _byId.GetValueOrDefault(id);
    }

    /// <summary>
    /// Recognises an endpoint from the HTTP method and the URL path segments that follow "/v2"
    /// (e.g. ["organizations","acme","pipelines",null,"builds"]). A null segment is one whose value comes from a
    /// record (a template macro): it matches a placeholder segment of the catalog path, never a literal one.
    /// Literal segments are compared exactly (already percent-decoded).
    /// </summary>
    /// <param name="method">The HTTP method, in any case.</param>
    /// <param name="segments">The path segments after "/v2"; one empty trailing segment (a trailing slash) is ignored.</param>
    /// <returns>The endpoint, or null when none fits. When several fit, the one with the most literal segments wins.</returns>
    public EndpointDefinition? Match(string method, IReadOnlyList<string?> segments)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(segments);
        EndpointDefinition? best = null;
        var bestLiterals = -1;
        foreach (var endpoint in _endpoints)
        {
            if (!endpoint.Accepts(method))
            {
                continue;
            }

            var literals = MatchPath(endpoint, segments);
            if (literals > bestLiterals)
            {
                best = endpoint;
                bestLiterals = literals;
            }
        }

        return best;
    }

    /// <summary>
    /// The endpoints whose path fits the segments, whatever their method: lets a caller explain "this path takes
    /// POST" when <see cref="Match"/> finds nothing for the method given.
    /// </summary>
    /// <param name="segments">The path segments after "/v2", as for <see cref="Match"/>.</param>
    /// <returns>The endpoints whose path fits, possibly none.</returns>
    public IReadOnlyList<EndpointDefinition> MatchPath(IReadOnlyList<string?> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        return [.. _endpoints.Where(endpoint => MatchPath(endpoint, segments) >= 0)];
    }

    // The literal segments matched by the endpoint's best-fitting path, or -1 when none fits.
    private static int MatchPath(EndpointDefinition endpoint, IReadOnlyList<string?> segments)
    {
        var count = segments.Count;
        if (count > 0 && segments[count - 1] is { Length: 0 })
        {
            // A trailing slash: Buildkite's own docs print some URLs with one (".../members/").
            count--;
        }

        var best = -1;
        var paths = endpoint.Paths;
        for (var i = 0; i < paths.Count; i++)
        {
            // An indexed loop: a foreach over the interface would allocate an enumerator on every match.
            if (paths[i].Matches(segments, count, out var literals) && literals > best)
            {
                best = literals;
            }
        }

        return best;
    }
}
