using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

/// <summary>Reads of a set of streams after a subscription cursor (<see cref="StreamSetReader"/>, the gateway's resume replay).</summary>
[Collection(PostgresCollection.Name)]
public sealed class StreamSetReads(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();
    private readonly StreamSetReader _reader = new(db.DataSource);
    private readonly List<AppendResult> _appended = [];

    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        // a: 4 events, b: 3, c: 2, interleaved, one transaction each (subscription order = position order).
        foreach (var stream in new[] { "a", "b", "c", "a", "b", "c", "a", "b", "a" })
        {
            _appended.Add(await _store.AppendAsync(stream, ExpectedVersion.Any, [Event()]));
        }
        // The reader sees only rows below the snapshot's xmin: a transaction of another host in this process (a
        // projection's batch) that began before these appends hides them until it ends. Wait until none does.
        await Eventually.Until(async () =>
        {
            await using var cmd = db.DataSource.CreateCommand(
                "select pg_snapshot_xmin(pg_current_snapshot()) > (select max(tx_id) from es_events)");
            return (bool)(await cmd.ExecuteScalarAsync())!;
        }, settled => settled, TimeSpan.FromSeconds(10), "every appended event below the snapshot's xmin");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_streams_are_read_from_their_first_versions_in_subscription_order_and_no_other_stream()
    {
        var events = await _reader.ReadAfterAsync([new StreamFrom("a", 3), new StreamFrom("b", 1)], LogCursor.Start, 100);

        Assert.Equal(["b:1", "b:2", "a:3", "b:3", "a:4"], events.Select(e => $"{e.StreamId}:{e.Version}"));
        Assert.Equal(events.Select(e => e.Cursor).Order(), events.Select(e => e.Cursor));
    }

    [Fact]
    public async Task Pages_after_the_last_cursor_read_continue_without_a_gap_or_a_repeat()
    {
        StreamFrom[] streams = [new("a", 1), new("b", 1), new("c", 1)];
        var all = await _reader.ReadAfterAsync(streams, LogCursor.Start, 100);
        var paged = new List<RecordedEvent>();
        var cursor = LogCursor.Start;
        while (true)
        {
            var page = await _reader.ReadAfterAsync(streams, cursor, 2);
            paged.AddRange(page);
            if (page.Count < 2)
            {
                break;
            }
            cursor = page[^1].Cursor;
        }

        Assert.Equal(9, all.Count);
        Assert.Equal(all.Select(e => e.Position), paged.Select(e => e.Position));
    }

    [Fact]
    public async Task A_position_maps_to_its_cursor_and_the_head_is_the_last_event()
    {
        var all = await _reader.ReadAfterAsync([new StreamFrom("a", 1), new StreamFrom("b", 1), new StreamFrom("c", 1)], LogCursor.Start, 100);
        var third = all[2];

        Assert.Equal(third.Cursor, await _reader.CursorOfAsync(third.Position));
        Assert.Null(await _reader.CursorOfAsync(_appended[^1].Position + 1000));
        Assert.Equal(_appended[^1].Position, await _reader.LastPositionAsync());
    }

    [Fact]
    public async Task The_backlog_count_says_whether_more_than_a_maximum_follow_the_cursor()
    {
        StreamFrom[] a = [new("a", 1)];
        var first = (await _reader.ReadAfterAsync(a, LogCursor.Start, 1))[0];

        Assert.True(await _reader.CountExceedsAsync(a, LogCursor.Start, 3));
        Assert.False(await _reader.CountExceedsAsync(a, LogCursor.Start, 4));
        Assert.False(await _reader.CountExceedsAsync(a, first.Cursor, 3));
    }

    [Fact]
    public async Task An_event_committed_behind_a_running_transaction_is_not_read_until_that_transaction_ends()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var open = await conn.BeginTransactionAsync();
        await using (var xid = new NpgsqlCommand("select pg_current_xact_id()", conn, open))
        {
            await xid.ExecuteScalarAsync();
        }
        var later = await _store.AppendAsync("b", ExpectedVersion.Any, [Event()]);
        StreamFrom[] b = [new("b", 4)];

        Assert.Empty(await _reader.ReadAfterAsync(b, LogCursor.Start, 100));
        await open.RollbackAsync();
        // Read once no older transaction is open (another host's projection batch may still hold the xmin back a moment).
        var read = await Eventually.Until(() => _reader.ReadAfterAsync(b, LogCursor.Start, 100), events => events.Count > 0,
            TimeSpan.FromSeconds(10), "the event once the transaction ended");
        Assert.Equal([later.Position], read.Select(e => e.Position));
    }
}
