using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// A read model built from the log, in the manner of Marten's projections: one handler per event type
/// (<c>On&lt;MessagePosted&gt;(...)</c> creates rows, later events apply changes to them). Handlers only queue SQL
/// on the <see cref="EventContext"/>; the runner sends a whole batch's statements and the checkpoint in one round
/// trip and one transaction, so a projection applies each event exactly once in effect.
/// </summary>
/// <remarks>
/// Tables live in the projection's own schema (<see cref="Schema"/>) and are named unqualified in
/// <see cref="CreateSql"/> and in handlers: the runner sets <c>search_path</c>, which is how a rebuild can fill a
/// fresh schema while the live one keeps serving, then swap them.
/// </remarks>
public abstract class Projection
{
    private readonly Dictionary<Type, Action<object, EventContext>> _handlers = [];

    /// <summary>Short, stable name: checkpoint <c>projection:{Name}</c>, schema <c>rm_{Name}</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Bumped when the tables or handlers change meaning; a new version is rebuilt from position 0.</summary>
    public virtual int Version => 1;

    public string Schema => $"rm_{Name}";

    public string CheckpointName => CheckpointOf(Name);

    /// <summary>The checkpoint of the projection named <paramref name="name"/> (the one place its format is written).</summary>
    public static string CheckpointOf(string name) => $"projection:{name}";

    /// <summary>DDL for the projection's tables, unqualified and idempotent (<c>create table if not exists</c>).</summary>
    public abstract string CreateSql { get; }

    /// <summary>Registers the handler for one event type.</summary>
    protected void On<TEvent>(Action<TEvent, EventContext> apply) where TEvent : class =>
        _handlers[typeof(TEvent)] = (e, ctx) => apply((TEvent)e, ctx);

    public bool Handles(Type eventType) => _handlers.ContainsKey(eventType);

    /// <summary>Queues the SQL for one stored event; events of types this projection ignores queue nothing.</summary>
    public void Apply(RecordedEvent recorded, EventContext context)
    {
        var type = EventTypes.TypeOf(recorded.Type);
        if (type is null || !_handlers.TryGetValue(type, out var handler))
        {
            return;
        }
        var @event = EventTypes.Deserialize(recorded.Type, recorded.Data)!;
        context.Current = recorded;
        handler(@event, context);
    }
}
