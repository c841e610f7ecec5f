namespace EventSourcedChat.Commands;

/// <summary>An event the fold of a stream kind does not know: a new event type without its line in the fold.</summary>
public sealed class UnknownEventException(string streamKind, object? @event)
    : InvalidOperationException($"The {streamKind} fold does not handle {@event?.GetType().Name ?? "null"}.");
