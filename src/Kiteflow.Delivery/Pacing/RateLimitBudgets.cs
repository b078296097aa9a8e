namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// The budgets of one process: one per organization and one per token user, each created on first use and
/// shared by every pacer that asks for it, so runs that spend the same limit pace together.
/// </summary>
internal sealed class RateLimitBudgets : IRateLimitBudgetSource, IDisposable
{
    /// <summary>Buildkite's documented organization limit, the local budget before the server has spoken.</summary>
    public const int BuildkiteOrganizationPerMinute = 200;

    /// <summary>Buildkite's documented per-user limit, the local budget before the server has spoken.</summary>
    public const int BuildkiteUserPerMinute = 50;

    private const string OrganizationsPath = "/v2/organizations/";

    private readonly TimeProvider _time;
    private readonly int _organizationPerMinute;
    private readonly int _userPerMinute;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, RateLimitBudget> _organizations = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, RateLimitBudget> _users = new(StringComparer.Ordinal);

    /// <param name="time">The clock.</param>
    /// <param name="organizationPerMinute">The organizations' local budget before the server has spoken.</param>
    /// <param name="userPerMinute">The users' local budget before the server has spoken.</param>
    public RateLimitBudgets(TimeProvider time, int organizationPerMinute = BuildkiteOrganizationPerMinute, int userPerMinute = BuildkiteUserPerMinute)
    {
        _time = time;
        _organizationPerMinute = organizationPerMinute;
        _userPerMinute = userPerMinute;
    }

    /// <inheritdoc />
    IRateLimitBudget IRateLimitBudgetSource.Organization(string slug) => Organization(slug);

    /// <inheritdoc />
    IRateLimitBudget IRateLimitBudgetSource.User(string key) => User(key);

    /// <summary>The budget of the organization <paramref name="slug"/> (empty for requests that name none).</summary>
    public RateLimitBudget Organization(string slug) => Get(_organizations, RateLimitScope.Organization, slug, _organizationPerMinute);

    /// <summary>The budget of the token user <paramref name="key"/>.</summary>
    public RateLimitBudget User(string key) => Get(_users, RateLimitScope.User, key, _userPerMinute);

    /// <summary>
    /// The organization a request URL counts against: the slug after <c>/v2/organizations/</c>, or empty when
    /// the path names none (the server then counts the token's organization).
    /// </summary>
    public static string OrganizationOf(string url)
    {
        var start = url.IndexOf(OrganizationsPath, StringComparison.OrdinalIgnoreCase);
        if (start < 0)
        {
            return string.Empty;
        }

        start += OrganizationsPath.Length;
        var end = url.IndexOfAny(['/', '?', '#'], start);
        return Uri.UnescapeDataString(end < 0 ? url[start..] : url[start..end]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var budget in _organizations.Values.Concat(_users.Values))
            {
                budget.Dispose();
            }

            _organizations.Clear();
            _users.Clear();
        }
    }

    private RateLimitBudget Get(Dictionary<string, RateLimitBudget> budgets, RateLimitScope scope, string key, int perMinute)
    {
        lock (_lock)
        {
            if (!budgets.TryGetValue(key, out var budget))
            {
                budget = new RateLimitBudget(scope, key, perMinute, _time);
                budgets[key] = budget;
            }

            return budget;
        }
    }
}
