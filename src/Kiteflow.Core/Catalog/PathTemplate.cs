namespace Kiteflow.Core.Catalog;

/// <summary>
/// A catalog path such as <c>/organizations/{org}/pipelines/{pipeline}/builds</c>, split into segments: a literal
/// segment must be matched exactly, a <c>{placeholder}</c> segment by any non-empty value or by a record's macro.
/// </summary>
internal sealed class PathTemplate
{
    private readonly string?[] _literals;

    public PathTemplate(string template)
    {
        if (!template.StartsWith('/'))
        {
            throw new ArgumentException($"The path template '{template}' must start with '/'.", nameof(template));
        }

        Text = template;
        var parts = template[1..].Split('/');
        _literals = new string?[parts.Length];
        var placeholders = new List<string>();
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length > 2 && part[0] == '{' && part[^1] == '}')
            {
                placeholders.Add(part[1..^1]);
            }
            else if (part.Length == 0 || part.Contains('{') || part.Contains('}'))
            {
                throw new ArgumentException($"The path template '{template}' has a malformed segment '{part}'.", nameof(template));
            }
            else
            {
                _literals[i] = part;
            }
        }

        Placeholders = placeholders;
    }

    public string Text { get; }

    public int SegmentCount => _literals.Length;

    public IReadOnlyList<string> Placeholders { get; }

    /// <summary>
    /// Whether the first <paramref name="count"/> segments fit this template; <paramref name="literalMatches"/>
    /// counts the literal segments matched, so the most specific template wins (<c>teams/enable</c> over
    /// <c>teams/{team}</c>).
    /// </summary>
    public bool Matches(IReadOnlyList<string?> segments, int count, out int literalMatches)
    {
        literalMatches = 0;
        if (count != _literals.Length)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            var segment = segments[i];
            var literal = _literals[i];
            if (literal is null)
            {
                // A value from a record (null) or any non-empty text fills a placeholder; an empty segment
                // ("//") is a broken URL, not a value.
                if (segment is { Length: 0 })
                {
                    return false;
                }
            }
            else if (segment is null || !string.Equals(segment, literal, StringComparison.Ordinal))
            {
                return false;
            }
            else
            {
                literalMatches++;
            }
        }

        return true;
    }

    public override string ToString() => Text;
}
