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

    /// <summary>One line describing <paramref name="p"/>.</summary>
    public static string Describe(DeliveryProgress p)
    {
        var seconds = Math.Max(p.Elapsed.TotalSeconds, 0.001);
        var eta = p.EstimatedRemaining is { } left ? $", ETA {Format(left)}" : string.Empty;
        var percent = p.InputFraction is { } f ? $" ({f:P0} of the input read)" : string.Empty;
        return $"{p.Settled:N0}/{p.Records:N0} records settled{percent}: {p.Delivered:N0} delivered, {p.Rejected:N0} rejected, {p.PossiblyDelivered:N0} possibly delivered · {p.Requests:N0} requests ({p.Requests / seconds:N1}/s) · {p.Retries:N0} retries · {p.RateLimitWaits:N0} rate-limit waits{eta}";
    }

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
                    context.Status(Markup.Escape(Describe(_runner.Progress)));
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
