using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

/// <summary>Reads of one stream's past (<see cref="StreamHistoryReader"/>: version ranges in pages, the stream as of an instant).</summary>
[Collection(PostgresCollection.Name)]
public sealed class StreamHistoryReads(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();
    private readonly StreamHistoryReader _reader = new(db.DataSource);

    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        // "kept": 7 events, types alternating a, b; "other": 2 events in between.
        for (var i = 1; i <= 7; i++)
        {
            await _store.AppendAsync("kept", ExpectedVersion.Any, [Event(i % 2 == 1 ? "a" : "b", $$"""{"n":{{i}}}""")]);
            if (i is 3 or 5)
            {
                await _store.AppendAsync("other", ExpectedVersion.Any, [Event("a")]);
            }
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(1, 7, 3)]
    [InlineData(2, 6, 5)]
    [InlineData(1, 6, 2)]
    [InlineData(3, 100, 1)]
    public async Task A_version_range_reads_every_event_of_the_stream_in_it_once_in_order_whatever_the_page_size(long from, long to, int pageSize)
    {
        var read = await _reader.ReadRangeAsync("kept", from, to, pageSize).ToListAsync();

        Assert.Equal(LongRange(from, Math.Min(to, 7)), read.Select(e => e.Version));
        Assert.All(read, e => Assert.Equal("kept", e.StreamId));
        Assert.Equal((await _store.ReadStreamAsync("kept", from, 100)).Where(e => e.Version <= to).Select(e => e.Hash),
            read.Select(e => e.Hash));
    }

    [Fact]
    public async Task An_empty_range_or_a_stream_that_does_not_exist_reads_nothing()
    {
        Assert.Empty(await _reader.ReadRangeAsync("kept", 5, 4, 10).ToListAsync());
        Assert.Empty(await _reader.ReadRangeAsync("missing", 1, 10, 10).ToListAsync());
    }

    [Fact]
    public async Task As_of_a_version_and_an_instant_the_stream_shows_only_what_was_stored_by_then()
    {
        var events = await _store.ReadStreamAsync("kept", 1, 100);
        var atFourth = events[3].CreatedAt;

        Assert.Equal(5, await _reader.LastVersionAsOfAsync("kept", 5, DateTimeOffset.MaxValue));
        Assert.Equal(4, await _reader.LastVersionAsOfAsync("kept", 100, atFourth));
        Assert.Equal(0, await _reader.LastVersionAsOfAsync("kept", 100, events[0].CreatedAt.AddTicks(-10)));
        Assert.Equal(0, await _reader.LastVersionAsOfAsync("missing", 100, DateTimeOffset.MaxValue));
        Assert.Equal([1L, 3L], (await _reader.ReadAsOfAsync("kept", 100, atFourth, ["a"]).ToListAsync()).Select(e => e.Version));
        Assert.Equal([2L, 4L], (await _reader.ReadAsOfAsync("kept", 5, DateTimeOffset.MaxValue, ["b"]).ToListAsync()).Select(e => e.Version));
    }

    private static IEnumerable<long> LongRange(long from, long to)
    {
        for (var v = from; v <= to; v++)
        {
            yield return v;
        }
    }
}
