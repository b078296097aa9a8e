using System.Globalization;
using System.Text.Json;

namespace Kiteflow.Core.Shaping;

/// <summary>
/// Which <c>excludeAttributes</c> paths the records read so far have, so that a path no record has (a
/// typo, a wrong case, a path under the wrong parent) is warned about instead of silently leaving
/// nothing out. Records are looked at on the planner's worker threads, each into its chunk's
/// <see cref="ExclusionSightings"/>; the enumerating thread merges them in dataset order. A path
/// is looked for only until one record has it, so a run whose paths all match pays almost nothing.
/// </summary>
internal sealed class ExclusionUsage
{
    private const int MaxCandidates = 256;
    private readonly string[] _settings;
    private readonly string[][] _parts;
    private readonly bool[] _seen;
    private readonly int[] _missDepth;
    private readonly HashSet<string>[] _candidates;
    private int _unseen;

    private ExclusionUsage(string[] settings, string[][] parts)
    {
        _settings = settings;
        _parts = parts;
        _seen = new bool[parts.Length];
        _missDepth = new int[parts.Length];
        Array.Fill(_missDepth, -1);
        _candidates = [.. parts.Select(_ => new HashSet<string>(StringComparer.Ordinal))];
        _unseen = parts.Length;
    }

    /// <summary>Records whose attributes were looked at.</summary>
    public long RecordsSeen { get; private set; }

    /// <summary>Tracks the paths of <paramref name="excludeAttributes"/> (as the shaper reads them); null when there are none.</summary>
    public static ExclusionUsage? For(IList<string> excludeAttributes)
    {
        var settings = new List<string>();
        var parts = new List<string[]>();
        foreach (var setting in excludeAttributes)
        {
            var path = setting.StartsWith("record.", StringComparison.Ordinal) ? setting["record.".Length..] : setting;
            var split = path.Split('.');
            if (path.Length > 0 && !Array.Exists(split, p => p.Length == 0) && !settings.Contains(setting))
            {
                settings.Add(setting);
                parts.Add(split);
            }
        }

        return parts.Count == 0 ? null : new ExclusionUsage([.. settings], [.. parts]);
    }

    /// <summary>A chunk's own record of what its records showed; reused.</summary>
    public ExclusionSightings NewSightings() => new(_parts.Length);

    /// <summary>Looks at one record for the paths no record has shown yet. Worker threads; one chunk's sightings each.</summary>
    public void Observe(JsonElement record, ExclusionSightings sightings)
    {
        sightings.Records++;
        if (Volatile.Read(ref _unseen) == 0)
        {
            return;
        }

        for (var i = 0; i < _parts.Length; i++)
        {
            if (sightings.Seen[i] || Volatile.Read(ref _seen[i]))
            {
                continue;
            }

            var parts = _parts[i];
            var node = record;
            var depth = 0;
            while (depth < parts.Length && node.ValueKind == JsonValueKind.Object && node.TryGetProperty(parts[depth], out var child))
            {
                node = child;
                depth++;
            }

            if (depth == parts.Length)
            {
                sightings.Seen[i] = true;
            }
            else if (node.ValueKind == JsonValueKind.Object && depth > sightings.MissDepth[i])
            {
                // The names next to where the path broke off, for a "did you mean": taken once per chunk and depth.
                sightings.MissDepth[i] = depth;
                var names = sightings.Names[i] ??= [];
                names.Clear();
                foreach (var property in node.EnumerateObject())
                {
                    if (names.Count == MaxCandidates)
                    {
                        break;
                    }

                    names.Add(property.Name);
                }
            }
        }
    }

    /// <summary>Takes in a chunk's sightings and clears them for reuse. The enumerating thread only.</summary>
    public void Merge(ExclusionSightings sightings)
    {
        RecordsSeen += sightings.Records;
        for (var i = 0; i < _parts.Length; i++)
        {
            if (sightings.Seen[i] && !_seen[i])
            {
                Volatile.Write(ref _seen[i], true);
                Interlocked.Decrement(ref _unseen);
            }

            if (!_seen[i] && sightings.MissDepth[i] >= _missDepth[i] && sightings.Names[i] is { } names)
            {
                if (sightings.MissDepth[i] > _missDepth[i])
                {
                    _missDepth[i] = sightings.MissDepth[i];
                    _candidates[i].Clear();
                }

                foreach (var name in names)
                {
                    if (_candidates[i].Count < MaxCandidates)
                    {
                        _candidates[i].Add(name);
                    }
                }
            }
        }

        sightings.Clear();
    }

    /// <summary>A warning for each path no record read has; <paramref name="complete"/> when the whole input was read.</summary>
    public IEnumerable<string> Warnings(bool complete)
    {
        if (RecordsSeen == 0)
        {
            yield break;
        }

        for (var i = 0; i < _parts.Length; i++)
        {
            if (_seen[i])
            {
                continue;
            }

            var hint = Suggestion(i) is { } suggestion
                ? $"; did you mean \"{suggestion}\"?"
                : "; check its spelling (names are case-sensitive) and where it sits in the record.";
            yield return complete
                ? $"excludeAttributes \"{_settings[i]}\": no record has this attribute, so it leaves nothing out{hint}"
                : string.Create(CultureInfo.InvariantCulture, $"excludeAttributes \"{_settings[i]}\": none of the {RecordsSeen:N0} records read has this attribute, so it left nothing out in them (only part of the input was read){hint}");
        }
    }

    private string? Suggestion(int i)
    {
        var depth = _missDepth[i];
        if (depth < 0 || NameSuggestions.Closest(_parts[i][depth], _candidates[i]) is not { } name)
        {
            return null;
        }

        var parts = (string[])_parts[i].Clone();
        parts[depth] = name;
        return string.Join('.', parts);
    }
}

/// <summary>What one chunk's records showed of the excluded paths (<see cref="ExclusionUsage"/>).</summary>
internal sealed class ExclusionSightings(int paths)
{
    public long Records { get; set; }

    public bool[] Seen { get; } = new bool[paths];

    public int[] MissDepth { get; } = Enumerable.Repeat(-1, paths).ToArray();

    public List<string>?[] Names { get; } = new List<string>?[paths];

    public void Clear()
    {
        Records = 0;
        Array.Clear(Seen);
        Array.Fill(MissDepth, -1);
        foreach (var names in Names)
        {
            names?.Clear();
        }
    }
}
