using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Kiteflow.Server.Tests;

/// <summary>Waits on conditions, with a generous deadline that is never asserted as a timing.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/> holds; fails with the last value at the deadline.</summary>
    public static async Task<JsonNode> WaitForAsync(Func<Task<JsonNode>> read, Func<JsonNode, bool> done)
    {
        var clock = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        JsonNode last;
        do
        {
            last = await read();
            if (done(last))
            {
                return last;
            }
        }
        while (clock.Elapsed < Deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"the condition never held; last: {last.ToJsonString()}");
        return last;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> at the deadline.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string what) => UntilAsync(condition, () => what);

    /// <summary>Polls <paramref name="condition"/> until it holds; at the deadline fails with <paramref name="what"/> as it is then (the last state seen).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Deadline, $"waited {Deadline} for {what()}");
            await poll.WaitForNextTickAsync();
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> at the deadline.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!condition())
        {
            Assert.True(clock.Elapsed < Deadline, $"waited {Deadline} for {what}");
            await poll.WaitForNextTickAsync();
        }
    }
}
