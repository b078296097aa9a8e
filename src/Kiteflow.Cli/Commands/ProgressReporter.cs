using Kiteflow.Delivery;
using Spectre.Console;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// Shows a run's progress (records, requests per second, ETA, retries, rate-limit waits): a live line on
/// a terminal, a plain line every few seconds when the output is a file or a pipe (CI logs).
/// </summary>
internal sealed class ProgressReporter : IAsyncDisposable
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>The columns Spectre's status line takes before the text: the spinner and a space.</summary>
    private const int SpinnerWidth = 2;

    private readonly DeliveryRunner _runner;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ProgressReporter(DeliveryRunner runner, TextWriter error)
    {
        _runner = runner;
        var terminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null;
        _loop = terminal ? Task.Run(LiveAsync) : Task.Run(() => PlainAsync(error));
    }

    public static ProgressReporter Start(DeliveryRunner runner, TextWriter error) => new(runner, error);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>
    /// One line describing <paramref name="p"/>, at most <paramref name="width"/> characters: the parts that
    /// matter least (waits, retries, the split of settled records) are left out first, so the records settled
    /// out of the input's total, the request rate and the ETA stay on an 80-column terminal.
    /// </summary>
    public static string Describe(DeliveryProgress p, int width = int.MaxValue)
    {
        var seconds = Math.Max(p.Elapsed.TotalSeconds, 0.001);
        var parts = new List<(string Text, int Priority)>
        {
            (Records(p), 0),
            ($"{p.Requests / seconds:N1} req/s", 1),
        };
        if (p.EstimatedRemaining is { } left)
        {
            parts.Add(($"ETA {Format(left)}", 2));
        }

        parts.Add(($"{p.Delivered:N0} delivered", 3));
        if (p.Rejected > 0)
        {
            parts.Add(($"{p.Rejected:N0} rejected", 4));
        }

        if (p.PossiblyDelivered > 0)
        {
            parts.Add(($"{p.PossiblyDelivered:N0} possibly delivered", 5));
        }

        if (p.Retries > 0)
        {
            parts.Add(($"{p.Retries:N0} retries", 6));
        }

        if (p.RateLimitWaits > 0)
        {
            parts.Add(($"{p.RateLimitWaits:N0} rate-limit waits", 7));
        }

        // Leave out the least important part until the line fits (the first part always stays).
        while (parts.Count > 1 && Join(parts).Length > width)
        {
            parts.RemoveAt(parts.FindIndex(x => x.Priority == parts.Max(y => y.Priority)));
        }

        var line = Join(parts);
        return line.Length <= width ? line : line[..Math.Max(0, width - 1)] + "…";
    }

    /// <summary>Records settled out of the whole input: exact once the input is read to its end, else estimated (<c>~</c>).</summary>
    private static string Records(DeliveryProgress p)
    {
        if (p.TotalRecords is not { } total)
        {
            return $"{p.Settled:N0} records settled of {p.RecordsFound:N0} read";
        }

        var percent = p.SettledFraction is { } f ? $" ({Math.Floor(f * 100):0}%)" : string.Empty;
        return $"{p.Settled:N0}/{(p.TotalIsEstimate ? "~" : string.Empty)}{total:N0} records{percent}";
    }

    private static string Join(List<(string Text, int Priority)> parts) => string.Join(" · ", parts.Select(x => x.Text));

    private async Task PlainAsync(TextWriter error)
    {
        using var timer = new PeriodicTimer(PlainInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                await error.WriteLineAsync($"kiteflow: {Describe(_runner.Progress)}").ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private async Task LiveAsync()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Status().Spinner(Spinner.Known.Dots).StartAsync("starting…", async context =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                {
                    // Read the width each time: the terminal may be resized during a long run.
                    context.Status(Markup.Escape(Describe(_runner.Progress, Math.Max(20, console.Profile.Width - SpinnerWidth - 1))));
                }
            }
            catch (OperationCanceledException)
            {
                // The run ended.
            }
        }).ConfigureAwait(false);
    }

    private static string Format(TimeSpan span) => span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m" : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s" : $"{span.Seconds}s";
}
