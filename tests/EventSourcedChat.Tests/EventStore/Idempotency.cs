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
}
