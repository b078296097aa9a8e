using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// Delivery's log messages (the server's too) on a command's error output, one line each, when
/// <c>KITEFLOW_LOG_LEVEL</c> asks for them (<c>debug</c>, <c>information</c>, <c>warning</c>, <c>error</c>); off by
/// default, where the progress line and the summary say what matters. Hand-written rather than the console provider:
/// that one writes to the process's console, and a command writes to the output it was given (tests read it).
/// </summary>
internal sealed class CommandLog(TextWriter error, LogLevel minimum) : ILogger
{
    public const string LevelVariable = "KITEFLOW_LOG_LEVEL";

    /// <summary>The logger <c>KITEFLOW_LOG_LEVEL</c> asks for, or none.</summary>
    public static ILogger From(Func<string, string?> environment, TextWriter error) =>
        Enum.TryParse<LogLevel>(environment(LevelVariable), ignoreCase: true, out var level) && level != LogLevel.None
            ? new CommandLog(error, level)
            : NullLogger.Instance;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            error.WriteLine($"kiteflow: {logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}");
        }
    }
}
