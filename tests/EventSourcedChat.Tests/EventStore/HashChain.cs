using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

[Collection(PostgresCollection.Name)]
public sealed class HashChain(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();

    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        for (var i = 1; i <= 6; i++)
        {
            await _store.AppendAsync("audited", ExpectedVersion.Any, [Event(data: $$"""{"text":"message {{i}}"}""")]);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task Tamper(string sql)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task An_intact_stream_verifies()
    {
        var result = await _store.VerifyStreamAsync("audited");

        Assert.Equal(new StreamVerification(true, 6, null), result);
        var events = await _store.ReadStreamAsync("audited", 1, 10);
        Assert.All(events.Skip(1).Zip(events), pair => Assert.Equal(pair.Second.Hash, pair.First.PrevHash));
    }

    [Fact]
    public async Task Data_changed_by_hand_is_named_by_its_version()
    {
        await Tamper("""update es_events set data = '{"text":"forged"}' where stream_id = 'audited' and version = 4""");

        Assert.Equal(new StreamVerification(false, 6, 4), await _store.VerifyStreamAsync("audited"));
    }

    [Fact]
    public async Task A_hash_recomputed_by_hand_breaks_the_link_to_the_next_event()
    {
        await Tamper("""
            update es_events set data = '{"text":"forged"}',
                   hash = es_event_hash(prev_hash, stream_id, version, event_id, type, '{"text":"forged"}', metadata, created_at)
             where stream_id = 'audited' and version = 3
            """);

        Assert.Equal(new StreamVerification(false, 6, 4), await _store.VerifyStreamAsync("audited"));
    }

    [Fact]
    public async Task A_deleted_event_is_noticed()
    {
        await Tamper("delete from es_events where stream_id = 'audited' and version = 2");

        var result = await _store.VerifyStreamAsync("audited");
        Assert.False(result.Ok);
        Assert.Equal(3, result.FirstBadVersion);
    }

    [Fact]
    public async Task Deleting_the_newest_events_is_noticed_against_the_stream_head()
    {
        await Tamper("delete from es_events where stream_id = 'audited' and version = 6");

        Assert.Equal(new StreamVerification(false, 5, 6), await _store.VerifyStreamAsync("audited"));
    }

    [Fact]
    public async Task A_newest_event_recomputed_by_hand_no_longer_matches_the_stream_head()
    {
        await Tamper("""
            update es_events set data = '{"text":"forged"}',
                   hash = es_event_hash(prev_hash, stream_id, version, event_id, type, '{"text":"forged"}', metadata, created_at)
             where stream_id = 'audited' and version = 6
            """);

        Assert.Equal(new StreamVerification(false, 6, 6), await _store.VerifyStreamAsync("audited"));
    }

    [Fact]
    public async Task A_stream_that_does_not_exist_verifies_empty()
    {
        Assert.Equal(new StreamVerification(true, 0, null), await _store.VerifyStreamAsync("never-written"));
    }
}
