using EventSourcedChat.Contracts.Notifications;
using EventSourcedChat.Projections.Push;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>A runner that follows the log: its name (in <c>projection_status</c> and the admin API) and its checkpoint.</summary>
public sealed record LogRunner(string Name, string Checkpoint);

/// <summary>Every runner of the system that follows the log: each projection of the catalog, the push worker and the notification worker.</summary>
public sealed class LogRunners(IEnumerable<Projection> projections)
{
    public IReadOnlyList<LogRunner> All { get; } = projections
        .Select(p => new LogRunner(p.Name, p.CheckpointName))
        .Append(new LogRunner(PushOptions.CheckpointName, PushOptions.CheckpointName))
        .Append(new LogRunner(NotificationNames.Runner, NotificationNames.Checkpoint))
        .ToList();

    public LogRunner? Find(string name) => All.FirstOrDefault(r => r.Name == name);
}
