using Microsoft.Extensions.Logging;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A logger provider for one test host: records entries at Warning and above, and everything at Information and above
/// from categories under EventSourcedChat.Projections (rare, and they explain stalled read models), into
/// <see cref="HostLogSink"/> labelled with <paramref name="host"/>.
/// </summary>
[ProviderAlias("TestHostLog")]
public sealed class HostLogProvider(string host) : ILoggerProvider
{
    private const string ProjectionsCategory = "EventSourcedChat.Projections";

    /// <summary>The lowest level any category can reach this provider at (the logging filters must let it through).</summary>
    public const LogLevel MinimumLevel = LogLevel.Information;

    public static bool IsRecorded(string category, LogLevel level) =>
        level != LogLevel.None
        && (level >= LogLevel.Warning || (level >= MinimumLevel && category.StartsWith(ProjectionsCategory, StringComparison.Ordinal)));

    public ILogger CreateLogger(string categoryName) => new HostLogger(host, categoryName);

    public void Dispose()
    {
    }

    private sealed class HostLogger(string host, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => IsRecorded(category, logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                HostLogSink.Add(host, category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
