using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

[Collection(PostgresCollection.Name)]
public sealed class Reading(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();

    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        for (var i = 1; i <= 10; i++)
        {
            await _store.AppendAsync(i % 2 == 0 ? "even" : "odd", ExpectedVersion.Any, [Event(data: $$"""{"i":{{i}}}""")]);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_stream_reads_forwards_from_a_version_with_a_limit()
    {
        var events = await _store.ReadStreamAsync("even", 2, 3);

        Assert.Equal([2L, 3L, 4L], events.Select(e => e.Version));
        Assert.Equal("""{"i": 4}""", events[0].Data);
    }

    [Fact]
    public async Task A_stream_reads_backwards_from_the_end()
    {
        var events = await _store.ReadStreamAsync("odd", long.MaxValue, 2, ReadDirection.Backwards);

        Assert.Equal([5L, 4L], events.Select(e => e.Version));
    }

    [Fact]
    public async Task The_global_log_reads_forwards_from_a_position()
    {
        var events = await _store.ReadAllAsync(3, 4);

        Assert.Equal([4L, 5L, 6L, 7L], events.Select(e => e.Position));
    }

    [Fact]
    public async Task A_missing_stream_reads_empty_at_version_zero()
    {
        Assert.Empty(await _store.ReadStreamAsync("nothing", 1, 10));
        Assert.Equal(0, await _store.GetStreamVersionAsync("nothing"));
    }
}
