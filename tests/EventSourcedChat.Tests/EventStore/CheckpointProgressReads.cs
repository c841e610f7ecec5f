using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

/// <summary>How far checkpoints stand along the log (<see cref="CheckpointProgress"/>) and a new checkpoint placed at the
/// last event before an instant (<see cref="CheckpointStore.StartAtLastBeforeAsync"/>).</summary>
[Collection(PostgresCollection.Name)]
public sealed class CheckpointProgressReads(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();
    private readonly CheckpointStore _checkpoints = new(db.DataSource);
    private readonly CheckpointProgress _progress = new(db.DataSource);
    private readonly List<RecordedEvent> _events = [];

    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        for (var i = 0; i < 4; i++)
        {
            await _store.AppendAsync("s", ExpectedVersion.Any, [Event()]);
        }
        _events.AddRange(await _store.ReadStreamAsync("s", 1, 10));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_position_is_passed_once_every_named_checkpoint_is_at_or_past_its_event()
    {
        await _checkpoints.SaveAsync("test:ahead", _events[3].Cursor);
        await _checkpoints.SaveAsync("test:behind", _events[1].Cursor);

        Assert.True(await _progress.AllPassedAsync(_events[1].Position, ["test:ahead", "test:behind"]));
        Assert.False(await _progress.AllPassedAsync(_events[2].Position, ["test:ahead", "test:behind"]));
        Assert.True(await _progress.AllPassedAsync(_events[3].Position, ["test:ahead"]));
        Assert.False(await _progress.AllPassedAsync(_events[0].Position, ["test:ahead", "test:missing"]));
    }

    [Fact]
    public async Task A_position_with_no_event_is_passed_once_the_log_is_beyond_it()
    {
        Assert.True(await _progress.AllPassedAsync(0, ["test:missing"]));
        Assert.False(await _progress.AllPassedAsync(_events[3].Position + 1, []));
    }

    [Fact]
    public async Task The_lag_of_each_checkpoint_comes_in_the_order_asked_against_the_head()
    {
        await _checkpoints.SaveAsync("test:behind", _events[1].Cursor);
        await _checkpoints.SaveAsync("test:head", _events[3].Cursor);

        var lags = await _progress.LagAsync(["test:head", "test:missing", "test:behind"]);

        Assert.Equal(["test:head", "test:missing", "test:behind"], lags.Select(l => l.Name));
        Assert.Equal([_events[3].Position, 0, _events[1].Position], lags.Select(l => l.Position));
        Assert.All(lags, l => Assert.Equal(_events[3].Position, l.HeadPosition));
        Assert.Equal(0, lags[0].OldestPendingSeconds);
        Assert.All(lags.Skip(1), l => Assert.True(l.OldestPendingSeconds >= 0));
    }

    [Fact]
    public async Task A_new_checkpoint_starts_at_the_last_event_before_the_instant_and_an_existing_one_stays()
    {
        await Eventually.Until(() => _store.ReadSubscriptionBatchAsync(LogCursor.Start, 10), read => read.Events.Count == 4,
            TimeSpan.FromSeconds(10), "every appended event below the snapshot's xmin");

        Assert.True(await _checkpoints.StartAtLastBeforeAsync("test:new", _events[2].CreatedAt.AddTicks(10)));
        Assert.Equal(_events[2].Cursor, await _checkpoints.LoadAsync("test:new"));
        Assert.False(await _checkpoints.StartAtLastBeforeAsync("test:new", DateTimeOffset.MaxValue));
        Assert.Equal(_events[2].Cursor, await _checkpoints.LoadAsync("test:new"));
        Assert.False(await _checkpoints.StartAtLastBeforeAsync("test:early", _events[0].CreatedAt));
        Assert.Equal(LogCursor.Start, await _checkpoints.LoadAsync("test:early"));
    }
}
