namespace EventSourcedChat.Commands;

/// <summary>Replays events through a stream kind's Evolve: what decision tests and the as-of view start from.</summary>
public static class Fold
{
    public static TState Replay<TState>(TState initial, IEnumerable<object> events, Func<TState, object, TState> evolve) =>
        events.Aggregate(initial, evolve);
}
