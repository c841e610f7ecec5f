using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>Appends chat events (records with an <see cref="EventTypeAttribute"/>) and answers with the log position.</summary>
public sealed class ChatEventStore(PostgresEventStore store)
{
    private const int MaxAttempts = 20;

    public NpgsqlDataSource DataSource => store.DataSource;

    public PostgresEventStore Log => store;

    /// <summary>
    /// The position of the stream's last event: what a command that changed nothing (an idempotent repeat) answers,
    /// so that a read-your-writes query waits for a state that already holds the change.
    /// </summary>
    public Task<long> HeadPositionAsync(string stream, CancellationToken ct) => store.GetHeadPositionAsync(stream, ct);

    /// <summary>Appends inside a transaction from <see cref="InTransactionAsync{T}"/> (the <see cref="StreamPipeline"/> is its one caller).</summary>
    /// <param name="eventIds">The id of the event at each index, or null for a new one.</param>
    public Task<AppendResult> AppendAsync(
        NpgsqlTransaction transaction, string stream, ExpectedVersion expected, IReadOnlyList<object> events, Actor actor,
        Func<int, Guid?>? eventIds = null, CancellationToken ct = default) =>
        store.AppendAsync(transaction, stream, expected, ToEventData(events, eventIds), new EventMetadata(actor.UserId, actor.CorrelationId), ct);

    /// <summary>One unit of work: lock and read state, decide, append, move state, commit (repeated whole if the log asks).</summary>
    public Task<T> InTransactionAsync<T>(Func<NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken ct) =>
        store.InTransactionAsync(work, ct);

    /// <summary>Event ids where only the first is given (a client's <c>clientMsgId</c>); the others are new.</summary>
    public static Func<int, Guid?>? FirstId(Guid? firstEventId) =>
        firstEventId is { } id ? i => i == 0 ? id : null : null;

    /// <summary>One chat event as the log stores it, with its id (a client's message id) or a new one.</summary>
    public static EventData ToEventData(object e, Guid? eventId) =>
        new(eventId ?? Guid.CreateVersion7(), EventTypes.StoredTypeOf(e.GetType()), EventTypes.Serialize(e));

    private static List<EventData> ToEventData(IReadOnlyList<object> events, Func<int, Guid?>? eventIds) =>
        events.Select((e, i) => new EventData(
            eventIds?.Invoke(i) ?? Guid.CreateVersion7(),
            EventTypes.StoredTypeOf(e.GetType()),
            EventTypes.Serialize(e))).ToList();

    /// <summary>
    /// Load state, decide, append at the loaded version; when another command appended in between, do it again
    /// on the new state. Decisions are cheap and pure, so a retry costs one more state read.
    /// </summary>
    public static async Task<T> RetryOnConflict<T>(Func<Task<T>> attempt)
    {
        for (var i = 1; ; i++)
        {
            try
            {
                return await attempt();
            }
            catch (WrongExpectedVersionException) when (i < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(0, Math.Min(i * 2, 20)));
            }
            catch (WrongExpectedVersionException e)
            {
                throw CommandRejected.Conflict(Contracts.Api.ErrorCodes.Conflict, $"Too many concurrent changes to {e.Stream}; try again.");
            }
        }
    }
}
