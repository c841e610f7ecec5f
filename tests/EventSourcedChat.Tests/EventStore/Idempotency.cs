using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

[Collection(PostgresCollection.Name)]
public sealed class Idempotency(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_retried_append_answers_the_first_result_and_writes_nothing()
    {
        var events = new[] { Event(), Event() };
        var first = await _store.AppendAsync("s-1", ExpectedVersion.NoStream, events);
        await _store.AppendAsync("s-1", ExpectedVersion.Exactly(2), [Event()]);

        // Whatever expected version the retry carries, even one that is now stale.
        var retry = await _store.AppendAsync("s-1", ExpectedVersion.NoStream, events);
        var retryAny = await _store.AppendAsync("s-1", ExpectedVersion.Any, events);

        Assert.True(retry.Duplicate);
        Assert.Equal(first.Version, retry.Version);
        Assert.Equal(first.Position, retry.Position);
        Assert.Equal(first with { Duplicate = true }, retryAny);
        Assert.Equal(3, await _store.GetStreamVersionAsync("s-1"));
        Assert.Equal(3, (await _store.ReadStreamAsync("s-1", 1, 100)).Count);
    }

    [Fact]
    public async Task Concurrent_retries_of_one_append_store_it_once()
    {
        var e = Event();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(
            () => _store.AppendAsync("s-1", ExpectedVersion.Any, [e]))));

        Assert.Single(results, r => !r.Duplicate);
        Assert.All(results, r => Assert.Equal((1L, results[0].Position), (r.Version, r.Position)));
        Assert.Single(await _store.ReadStreamAsync("s-1", 1, 100));
    }

    [Fact]
    public async Task An_append_mixing_stored_and_new_event_ids_is_rejected_whole()
    {
        var stored = Event();
        await _store.AppendAsync("s-1", ExpectedVersion.NoStream, [stored]);

        await Assert.ThrowsAsync<EventIdConflictException>(
            () => _store.AppendAsync("s-1", ExpectedVersion.Any, [stored, Event()]));
        Assert.Equal(1, await _store.GetStreamVersionAsync("s-1"));
    }

    [Fact]
    public async Task The_same_event_id_in_another_stream_is_another_event()
    {
        var e = Event();
        await _store.AppendAsync("s-1", ExpectedVersion.NoStream, [e]);
        var other = await _store.AppendAsync("s-2", ExpectedVersion.NoStream, [e]);

        Assert.False(other.Duplicate);
        Assert.Equal(1, other.Version);
    }

    [Fact]
    public async Task A_duplicate_does_not_run_the_in_transaction_side_effect_again()
    {
        var e = Event();
        var runs = 0;
        Task Count(AppendResult _, Npgsql.NpgsqlTransaction __, CancellationToken ___)
        {
            runs++;
            return Task.CompletedTask;
        }

        await _store.AppendAsync("s-1", ExpectedVersion.NoStream, [e], null, Count);
        await _store.AppendAsync("s-1", ExpectedVersion.NoStream, [e], null, Count);

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task A_failing_side_effect_rolls_the_append_back()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.AppendAsync(
            "s-1", ExpectedVersion.NoStream, [Event()], null, (_, _, _) => throw new InvalidOperationException("boom")));

        Assert.Equal(0, await _store.GetStreamVersionAsync("s-1"));
        Assert.Empty(await _store.ReadAllAsync(0, 10));
    }

    [Fact]
    public async Task A_group_append_whose_ids_are_all_stored_answers_their_rows_in_the_order_given_and_writes_nothing()
    {
        var events = new[] { Event(), Event(), Event() };
        var first = await AppendEachAsync("s-1", 0, events);
        await _store.AppendAsync("s-1", ExpectedVersion.Exactly(3), [Event()]);

        var again = await AppendEachAsync("s-1", 0, [events[2], events[0], events[1]]);

        Assert.Equal([first[2], first[0], first[1]], again.Select(r => r with { Duplicate = false }));
        Assert.All(again, r => Assert.True(r.Duplicate));
        Assert.Equal(4, await _store.GetStreamVersionAsync("s-1"));
    }

    [Fact]
    public async Task A_group_append_mixing_stored_and_new_event_ids_is_rejected_whole()
    {
        var stored = Event();
        await AppendEachAsync("s-1", 0, [stored]);

        await Assert.ThrowsAsync<EventIdConflictException>(() => AppendEachAsync("s-1", 1, [Event(), stored]));
        Assert.Equal(1, await _store.GetStreamVersionAsync("s-1"));
    }

    [Fact]
    public async Task Finding_a_streams_events_answers_only_the_stored_ids_of_that_stream()
    {
        var (a, b) = (Event(), Event());
        var stored = await AppendEachAsync("s-1", 0, [a, b]);
        await _store.AppendAsync("s-2", ExpectedVersion.NoStream, [Event()]);

        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var batch = new Npgsql.NpgsqlBatch(connection) { BatchCommands = { PostgresEventStore.FindEventsCommand("s-1", [b.EventId, Guid.NewGuid(), a.EventId]) } };
        await using var reader = await batch.ExecuteReaderAsync();
        var found = await PostgresEventStore.ReadFoundEventsAsync(reader, CancellationToken.None);

        Assert.Equal(2, found.Count);
        Assert.Equal(stored[0] with { Duplicate = true }, found[a.EventId]);
        Assert.Equal(stored[1] with { Duplicate = true }, found[b.EventId]);
    }

    private async Task<IReadOnlyList<AppendResult>> AppendEachAsync(string stream, long expected, EventData[] events)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using var batch = new Npgsql.NpgsqlBatch(connection, tx)
        {
            BatchCommands = { _store.AppendEachCommand(stream, expected, events.Select(e => new GroupEvent(e, new EventMetadata("u-1"))).ToList()) },
        };
        var rows = await PostgresEventStore.TranslateAsync(stream, expected, async () =>
        {
            await using var reader = await batch.ExecuteReaderAsync();
            return await _store.ReadAppendedAsync(reader, CancellationToken.None);
        });
        await tx.CommitAsync();
        return rows;
    }
}
