using System.Collections.Concurrent;
using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.EventStore;

[Collection(PostgresCollection.Name)]
public sealed class Appending(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    internal static EventData Event(string type = "thing-happened", string data = """{"n":1}""") => new(Guid.NewGuid(), type, data);

    [Fact]
    public async Task An_append_answers_the_new_version_and_the_position_of_its_last_event()
    {
        var first = await _store.AppendAsync("s-1", ExpectedVersion.NoStream, [Event(), Event()]);
        var second = await _store.AppendAsync("s-1", ExpectedVersion.Exactly(2), [Event()]);

        Assert.Equal(2, first.Version);
        Assert.Equal(3, second.Version);
        Assert.False(first.Duplicate);
        Assert.True(second.Position > first.Position);
        var stored = await _store.ReadStreamAsync("s-1", 1, 10);
        Assert.Equal([1L, 2L, 3L], stored.Select(e => e.Version));
        Assert.Equal(second.Position, stored[^1].Position);
        Assert.Equal(3, await _store.GetStreamVersionAsync("s-1"));
    }

    [Fact]
    public async Task Every_event_stores_its_metadata()
    {
        var now = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var store = db.CreateStore(new FixedTime(now));
        await store.AppendAsync("s-1", ExpectedVersion.Any, [Event()], new EventMetadata("user-7", "corr-1", "cause-1"));

        var e = Assert.Single(await store.ReadStreamAsync("s-1", 1, 10));
        Assert.Equal(now, e.CreatedAt);
        Assert.Contains("\"actor\": \"user-7\"", e.Metadata, StringComparison.Ordinal);
        Assert.Contains("\"correlationId\": \"corr-1\"", e.Metadata, StringComparison.Ordinal);
        Assert.Contains("\"causationId\": \"cause-1\"", e.Metadata, StringComparison.Ordinal);
        Assert.Contains("2026-11-23T10:00:00", e.Metadata, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_expected_version_is_rejected_with_the_actual_version()
    {
        await _store.AppendAsync("s-1", ExpectedVersion.NoStream, [Event(), Event()]);

        var stale = await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => _store.AppendAsync("s-1", ExpectedVersion.Exactly(1), [Event()]));
        var noStream = await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => _store.AppendAsync("s-1", ExpectedVersion.NoStream, [Event()]));
        var missing = await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => _store.AppendAsync("s-2", ExpectedVersion.StreamExists, [Event()]));

        Assert.Equal(2, stale.ActualVersion);
        Assert.Equal(2, noStream.ActualVersion);
        Assert.Equal(0, missing.ActualVersion);
        Assert.Equal(2, await _store.GetStreamVersionAsync("s-1"));
        Assert.Equal(0, await _store.GetStreamVersionAsync("s-2"));
        Assert.Empty(await _store.ReadStreamAsync("s-2", 1, 10));
    }

    [Fact]
    public async Task Concurrent_writers_to_one_stream_win_each_version_exactly_once()
    {
        const int writers = 8;
        const int versions = 20;
        var winners = new ConcurrentDictionary<long, int>();
        var conflicts = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var v = 0; v < versions; v++)
            {
                try
                {
                    var result = await _store.AppendAsync("contended", ExpectedVersion.Exactly(v), [Event(data: $$"""{"writer":{{w}}}""")]);
                    Assert.True(winners.TryAdd(result.Version, w), $"version {result.Version} won twice");
                }
                catch (WrongExpectedVersionException e)
                {
                    Assert.True(e.ActualVersion > v);
                    Interlocked.Increment(ref conflicts);
                }
            }
        })));

        Assert.Equal(Enumerable.Range(1, versions).Select(v => (long)v), winners.Keys.Order());
        Assert.Equal(writers * versions - versions, conflicts);
        var stored = await _store.ReadStreamAsync("contended", 1, 1000);
        Assert.Equal(versions, stored.Count);
    }

    [Fact]
    public async Task Appends_to_different_streams_proceed_in_parallel()
    {
        await using var blocker = await db.DataSource.OpenConnectionAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var cmd = new Npgsql.NpgsqlCommand(
            "select * from es_append('held', 0, array[gen_random_uuid()], array['t'], array['{}'::jsonb], array['{}'::jsonb], now())", blocker, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        // 'held' is locked by the open transaction; another stream is not.
        var other = await _store.AppendAsync("free", ExpectedVersion.NoStream, [Event()]).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, other.Version);
        await tx.RollbackAsync();
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
