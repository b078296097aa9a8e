using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Api;

namespace Kiteflow.Sandbox.Inspection;

/// <summary>One API request as the sandbox received and answered it. Tokens are redacted.</summary>
internal sealed class RequestLogEntry
{
    public required long Sequence { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    public required string Query { get; init; }
    public required Dictionary<string, string> Headers { get; init; }
    public string? Body { get; set; }
    public bool BodyTruncated { get; set; }
    public int? Status { get; set; }
    public string? Fault { get; set; }

    public JsonObject ToJson()
    {
        var headers = new JsonObject();
        foreach (var (name, value) in Headers)
        {
            headers[name] = value;
        }

        return new JsonObject
        {
            ["sequence"] = Sequence,
            ["time"] = Formats.Time(Time),
            ["method"] = Method,
            ["path"] = Path,
            ["query"] = Query,
            ["headers"] = headers,
            ["body"] = Body,
            ["bodyTruncated"] = BodyTruncated,
            ["status"] = Status,
            ["fault"] = Fault,
        };
    }
}

/// <summary>
/// The last requests received, oldest dropped first once <c>capacity</c> is reached, and each body cut
/// to a limit: memory stays bounded however long the sandbox runs.
/// </summary>
internal sealed class RequestLog(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<RequestLogEntry> _entries = new();
    private long _sequence;
    private long _dropped;

    public int Capacity { get; } = capacity;

    public long NextSequence() => Interlocked.Increment(ref _sequence);

    public void Add(RequestLogEntry entry)
    {
        lock (_gate)
        {
            _entries.Enqueue(entry);
            while (_entries.Count > Capacity)
            {
                _entries.Dequeue();
                _dropped++;
            }
        }
    }

    /// <summary>Records the answer; under the log's lock, as a reader may be listing the entry meanwhile.</summary>
    public void Complete(RequestLogEntry entry, int? status, string? fault)
    {
        lock (_gate)
        {
            entry.Status = status;
            entry.Fault = fault ?? entry.Fault;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
            _dropped = 0;
        }
    }

    public JsonObject ToJson()
    {
        lock (_gate)
        {
            var array = new JsonArray();
            foreach (var entry in _entries)
            {
                array.Add(entry.ToJson());
            }

            return new JsonObject
            {
                ["capacity"] = Capacity,
                ["dropped"] = _dropped,
                ["count"] = _entries.Count,
                ["requests"] = array,
            };
        }
    }
}
