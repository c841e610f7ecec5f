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

    /// <param name="firstEventId">The id of the first event (a client's <c>clientMsgId</c>); others get new ids.</param>
    /// <param name="applyState">Write-side state changes, run in the append's transaction when something was written.</param>
    public Task<AppendResult> AppendAsync(
        string stream, ExpectedVersion expected, IReadOnlyList<object> events, Actor actor,
        Func<AppendResult, NpgsqlTransaction, CancellationToken, Task>? applyState = null,
        Guid? firstEventId = null, CancellationToken ct = default)
    {
        var data = ToEventData(events, firstEventId);
        var metadata = new EventMetadata(actor.UserId, actor.CorrelationId);
        return applyState is null
            ? store.AppendAsync(stream, expected, data, metadata, ct)
            : store.AppendAsync(stream, expected, data, metadata, applyState, ct);
    }

    /// <summary>Appends inside a transaction from <see cref="InTransactionAsync{T}"/>, after the caller locked and read its state.</summary>
    public Task<AppendResult> AppendAsync(
        NpgsqlTransaction transaction, string stream, ExpectedVersion expected, IReadOnlyList<object> events, Actor actor,
        Guid? firstEventId = null, CancellationToken ct = default) =>
        store.AppendAsync(transaction, stream, expected, ToEventData(events, firstEventId), new EventMetadata(actor.UserId, actor.CorrelationId), ct);

    /// <summary>One unit of work: lock and read state, decide, append, move state, commit (repeated whole if the log asks).</summary>
    public Task<T> InTransactionAsync<T>(Func<NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken ct) =>
        store.InTransactionAsync(work, ct);

    private static List<EventData> ToEventData(IReadOnlyList<object> events, Guid? firstEventId) =>
        events.Select((e, i) => new EventData(
            i == 0 && firstEventId is { } id ? id : Guid.CreateVersion7(),
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
