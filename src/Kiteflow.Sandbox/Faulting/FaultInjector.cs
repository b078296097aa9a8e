namespace Kiteflow.Sandbox.Faulting;

/// <summary>A rule that fired for one request.</summary>
internal sealed record FiredFault(SandboxFaultRule Rule, int Index)
{
    public string Describe() =>
        $"{Rule.When.ToString().ToLowerInvariant()}:{Rule.Action.ToString().ToLowerInvariant()}"
        + (Rule.Action == SandboxFaultAction.Respond ? $":{Rule.Status}" : "")
        + (Rule.DelayMs > 0 ? $":{Rule.DelayMs}ms" : "");
}

/// <summary>
/// Holds the fault rules and decides, request by request, which one fires. Draws come from one
/// generator under a lock, seeded by <c>--seed-random</c>, so a given sequence of requests meets the
/// same faults on every run.
/// </summary>
internal sealed class FaultInjector(int? seed)
{
    private readonly Lock _gate = new();
    private readonly Random _random = seed is null ? new Random() : new Random(seed.Value);
    private List<(SandboxFaultRule Rule, int? Remaining)> _rules = [];

    public IReadOnlyList<SandboxFaultRule> Rules
    {
        get
        {
            lock (_gate)
            {
                return _rules.Select(r => r.Rule).ToList();
            }
        }
    }

    public void Set(IEnumerable<SandboxFaultRule> rules)
    {
        var copy = rules.Select(r => (Copy(r), r.Count)).ToList();
        lock (_gate)
        {
            _rules = copy;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rules = [];
        }
    }

    public FiredFault? Match(SandboxFaultWhen when, string method, string path)
    {
        lock (_gate)
        {
            for (var i = 0; i < _rules.Count; i++)
            {
                var (rule, remaining) = _rules[i];
                if (rule.When != when
                    || remaining is <= 0
                    || (rule.Method is not null and not "*" && !string.Equals(rule.Method, method, StringComparison.OrdinalIgnoreCase))
                    || !PathMatches(rule.Path, path))
                {
                    continue;
                }

                // Draw only for a rule that could fire, so unrelated traffic does not shift the sequence.
                if (rule.Probability < 1 && _random.NextDouble() >= rule.Probability)
                {
                    continue;
                }

                _rules[i] = (rule, remaining - 1);
                return new FiredFault(rule, i);
            }

            return null;
        }
    }

    /// <summary>Matches a path against a pattern where <c>*</c> is one segment and <c>**</c> any number of them.</summary>
    public static bool PathMatches(string pattern, string path)
    {
        var p = pattern.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var s = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        return Match(p, 0, s, 0);

        static bool Match(string[] p, int i, string[] s, int j)
        {
            while (i < p.Length)
            {
                if (p[i] == "**")
                {
                    for (var k = j; k <= s.Length; k++)
                    {
                        if (Match(p, i + 1, s, k))
                        {
                            return true;
                        }
                    }

                    return false;
                }

                if (j >= s.Length || (p[i] != "*" && !string.Equals(p[i], s[j], StringComparison.OrdinalIgnoreCase)))
                {
                    return false;
                }

                i++;
                j++;
            }

            return j == s.Length;
        }
    }

    private static SandboxFaultRule Copy(SandboxFaultRule r) => new()
    {
        Method = r.Method,
        Path = r.Path,
        When = r.When,
        Probability = r.Probability,
        Count = r.Count,
        Status = r.Status,
        DelayMs = r.DelayMs,
        Action = r.Action,
    };
}
