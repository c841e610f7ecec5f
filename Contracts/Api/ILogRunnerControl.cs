namespace EventSourcedChat.Contracts.Api;

/// <summary>
/// What the log runners' status and restart control offer a runner outside the projections module (the notification
/// worker): record a run, record its stop, and run until an operator asks for a restart.
/// </summary>
public interface ILogRunnerControl
{
    Task<DateTime> StartedAsync(string name, CancellationToken ct);

    Task<DateTime> StoppedAsync(string name, string state, Exception error, long? failedPosition, Guid? failedEventId, CancellationToken ct);

    Task<bool> RunUntilRestartAsync(string name, DateTime since, Func<CancellationToken, Task> run, CancellationToken ct);
}
