using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Kiteflow.Storage.Postgres.Tests.Cluster;

/// <summary>Silo logs (warnings and up) into the test's output, so a failing cluster test explains itself.</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output, string silo) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, silo, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string silo, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                output.WriteLine($"[{silo}] {logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; its output is closed.
            }
        }
    }
}
