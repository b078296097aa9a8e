namespace Kiteflow.Core.Planning;

/// <summary>
/// The records a preview rejected, kept in bounded memory however many there are: the first
/// <see cref="Listed"/> as they came (for the JSON document), and groups by stage and message with a count and
/// the first few positions (for the text, where 400 records refused for one reason are one line, not 400).
/// </summary>
internal sealed class PreviewRejections
{
    /// <summary>How many rejections a preview lists, and (without <c>--all</c>) how many it reads before it stops.</summary>
    public const int ListLimit = 100;

    private const int MaxGroups = 50;
    private const int ExamplesPerGroup = 5;
    private readonly Dictionary<(RejectionStage, string), Group> _groups = [];
    private readonly List<Rejection> _listed = [];

    /// <summary>Every rejection added.</summary>
    public long Count { get; private set; }

    /// <summary>The first <see cref="ListLimit"/> rejections, in input order.</summary>
    public IReadOnlyList<Rejection> Listed => _listed;

    /// <summary>The groups, in the order their first record came; at most 50.</summary>
    public IEnumerable<Group> Groups => _groups.Values.OrderBy(g => g.Order);

    /// <summary>Rejections whose message came after the group limit was reached.</summary>
    public long Ungrouped { get; private set; }

    public void Add(Rejection rejection)
    {
        Count++;
        if (_listed.Count < ListLimit)
        {
            _listed.Add(rejection);
        }

        var key = (rejection.Stage, rejection.Message);
        if (!_groups.TryGetValue(key, out var group))
        {
            if (_groups.Count >= MaxGroups)
            {
                Ungrouped++;
                return;
            }

            group = new Group(_groups.Count, rejection.StageName, rejection.Message);
            _groups[key] = group;
        }

        group.Count++;
        if (group.Examples.Count < ExamplesPerGroup)
        {
            group.Examples.Add((rejection.Record, rejection.Line));
        }
    }

    /// <summary>The records refused at one stage with one message.</summary>
    internal sealed class Group(int order, string stage, string message)
    {
        public int Order { get; } = order;

        public string Stage { get; } = stage;

        public string Message { get; } = message;

        public long Count { get; set; }

        public List<(long Record, long? Line)> Examples { get; } = [];
    }
}
