namespace Kiteflow.Server.Delivery;

/// <summary>Records settled per second over the last minute, from counts added as stretches finish.</summary>
internal sealed class RateMeter(TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Queue<(DateTimeOffset At, long Count)> _recent = new();
    private readonly Lock _lock = new();

    public void Add(long count)
    {
        if (count <= 0)
        {
            return;
        }

        lock (_lock)
        {
            _recent.Enqueue((time.GetUtcNow(), count));
            Trim(time.GetUtcNow());
        }
    }

    public double PerSecond
    {
        get
        {
            lock (_lock)
            {
                var now = time.GetUtcNow();
                Trim(now);
                return _recent.Count == 0 ? 0 : _recent.Sum(e => e.Count) / Window.TotalSeconds;
            }
        }
    }

    private void Trim(DateTimeOffset now)
    {
        while (_recent.TryPeek(out var oldest) && now - oldest.At > Window)
        {
            _recent.Dequeue();
        }
    }
}
