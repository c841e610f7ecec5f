using System.Net;
using System.Text.Json;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Messages;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Group commit of posts (<see cref="PostGroups"/>): posts to one channel that arrive while its commit is in flight go
/// together into the next transaction. The tests that need a known group hold the channel stream's lock from a test
/// transaction: the first post's group waits on it, the next posts queue behind it and form one group when it is let go.
/// </summary>
public sealed class GroupCommits(PostgresFixture db) : ApiTest(db)
{
    private PostGroups Groups => Host.Services.GetRequiredService<PostGroups>();

    [Fact]
    public async Task Concurrent_posts_to_one_channel_get_distinct_consecutive_seqs_and_are_all_stored_in_fewer_commits()
    {
        var ada = await RegisterAsync("ada");
        var others = new List<TestUser>();
        for (var i = 0; i < 4; i++)
        {
            others.Add(await RegisterAsync($"u{i}"));
        }
        var ws = await WorkspaceAsync(ada, [.. others]);
        var ch = await ChannelAsync(ada, ws);
        foreach (var user in others)
        {
            await user.Ok("POST", $"/v1/channels/{ch}/join");
        }
        var posters = others.Prepend(ada).ToList();
        var before = Groups.Committed;

        var answers = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            posters[i % posters.Count].Ok("POST", $"/v1/channels/{ch}/messages", new { text = $"m{i}", clientMsgId = $"c{i}" }, HttpStatusCode.Created)));

        var seqs = answers.Select(a => a.GetProperty("seq").GetInt64()).Order().ToList();
        var first = seqs[0];
        Assert.Equal(Enumerable.Range(0, 60).Select(i => first + i), seqs);
        Assert.Equal(60, answers.Select(a => a.GetProperty("position").GetInt64()).Distinct().Count());
        // Every acknowledged post is in the log at its seq, once, and the write side agrees with the stream's version.
        await using var cmd = Db.DataSource.CreateCommand("""
            select count(*), count(distinct e.event_id), min(e.version), max(e.version),
                   (select version from es_streams where stream_id = $1), (select version from ws_channels where channel_id = $2),
                   (select count(*) from ws_messages where channel_id = $2)
              from es_events e where e.stream_id = $1 and e.type = 'message.posted.v1'
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = StreamNames.Channel(ch) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ch });
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal((60L, 60L, first, first + 59), (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)));
        Assert.Equal(first + 59, r.GetInt64(4));
        Assert.Equal(first + 59, r.GetInt64(5));
        Assert.Equal(60, r.GetInt64(6));
        var after = Groups.Committed;
        Assert.Equal(60, after.Items - before.Items);
        Assert.True(after.Groups - before.Groups < 60, $"60 concurrent posts took {after.Groups - before.Groups} commits");
    }

    [Fact]
    public async Task A_post_refused_inside_a_group_gets_its_own_problem_and_the_others_of_the_group_are_stored()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob, eve);
        var ch = await ChannelAsync(ada, ws);
        await bob.Ok("POST", $"/v1/channels/{ch}/join"); // eve does not join: she may not post
        var path = $"/v1/channels/{ch}/messages";

        var (blocked, group) = await InOneGroupAsync(ch, () => ada.SendAsync("POST", path, new { text = "first" }),
            () => ada.SendAsync("POST", path, new { text = "a" }),
            () => eve.SendAsync("POST", path, new { text = "not a member" }),
            () => bob.SendAsync("POST", path, new { text = "   " }),
            () => bob.SendAsync("POST", path, new { text = "b" }));

        Assert.Equal(HttpStatusCode.Created, blocked.StatusCode);
        var firstSeq = await SeqAsync(blocked);
        Assert.Equal(HttpStatusCode.Created, group[0].StatusCode);
        Assert.Equal(firstSeq + 1, await SeqAsync(group[0]));
        var refused = await group[1].Content.ReadAsStringAsync();
        Assert.True((int)group[1].StatusCode is 403 or 404, refused);
        await Problems.AssertAsync(group[2], HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(HttpStatusCode.Created, group[3].StatusCode);
        Assert.Equal(firstSeq + 2, await SeqAsync(group[3]));
        var texts = await ada.Ok("GET", $"{path}?limit=10&minPosition={await PositionAsync(group[3])}");
        var stored = texts.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Contains("a", stored);
        Assert.Contains("b", stored);
        Assert.DoesNotContain("not a member", stored);
    }

    [Fact]
    public async Task The_same_client_msg_id_twice_in_one_group_is_stored_once_and_both_get_the_first_result()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var path = $"/v1/channels/{ch}/messages";
        var send = new { text = "once", clientMsgId = "same-group" };

        var (_, group) = await InOneGroupAsync(ch, () => ada.SendAsync("POST", path, new { text = "first" }),
            () => ada.SendAsync("POST", path, send),
            () => ada.SendAsync("POST", path, new { text = "other", clientMsgId = "other" }),
            () => ada.SendAsync("POST", path, send));

        Assert.Equal(HttpStatusCode.Created, group[0].StatusCode);
        Assert.Equal(HttpStatusCode.Created, group[1].StatusCode);
        Assert.Equal(HttpStatusCode.OK, group[2].StatusCode);
        var first = JsonDocument.Parse(await group[0].Content.ReadAsStringAsync()).RootElement;
        var repeat = JsonDocument.Parse(await group[2].Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(first.ToString(), repeat.ToString());
        Assert.Equal(first.GetProperty("seq").GetInt64() + 1, await SeqAsync(group[1]));
        await using var cmd = Db.DataSource.CreateCommand(
            "select count(*) from es_events where stream_id = $1 and data->>'text' = 'once'");
        cmd.Parameters.Add(new NpgsqlParameter { Value = StreamNames.Channel(ch) });
        Assert.Equal(1L, (long)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Posts_to_several_channels_waiting_at_once_are_committed_in_one_transaction()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var waiting = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            waiting.Add(await ChannelAsync(ada, ws, $"waiting-{i}"));
        }

        var posts = await WhileEveryCommitWaitsAsync(ada, ws, async () =>
        {
            var sent = new List<Task<HttpResponseMessage>>();
            foreach (var ch in waiting)
            {
                sent.Add(ada.SendAsync("POST", $"/v1/channels/{ch}/messages", new { text = $"to {ch}" }));
                await Eventually.Until(() => Task.FromResult(Groups.Queued(ch)), n => n == 1, TimeSpan.FromSeconds(10), "the post to queue");
            }
            return sent;
        });

        var answers = await Task.WhenAll(posts).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        // One transaction wrote all three: the same transaction id on each event, and each channel's write side moved.
        await using var cmd = Db.DataSource.CreateCommand("""
            select count(distinct e.tx_id), count(*),
                   count(*) filter (where c.version = e.version and s.version = e.version)
              from es_events e join es_streams s on s.stream_id = e.stream_id
              join ws_channels c on 'channel-' || c.channel_id = e.stream_id
             where e.stream_id = any($1) and e.type = 'message.posted.v1'
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = waiting.Select(StreamNames.Channel).ToArray() });
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal((1L, 3L, 3L), (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)));
    }

    [Fact]
    public async Task A_channel_busy_elsewhere_is_left_out_of_a_shared_transaction_and_does_not_hold_up_the_others()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var free = await ChannelAsync(ada, ws, "free");
        var busy = await ChannelAsync(ada, ws, "busy");
        await using var holder = await Db.DataSource.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();

        var posts = await WhileEveryCommitWaitsAsync(ada, ws, async () =>
        {
            var toFree = ada.SendAsync("POST", $"/v1/channels/{free}/messages", new { text = "free" });
            await Eventually.Until(() => Task.FromResult(Groups.Queued(free)), n => n == 1, TimeSpan.FromSeconds(10), "the post to the free channel to queue");
            await LockStreamAsync(holder, held, busy);
            var toBusy = ada.SendAsync("POST", $"/v1/channels/{busy}/messages", new { text = "busy" });
            await Eventually.Until(() => Task.FromResult(Groups.Queued(busy)), n => n == 1, TimeSpan.FromSeconds(10), "the post to the busy channel to queue");
            return [toFree, toBusy];
        });

        // The free channel's post commits while the busy channel's lock is still held elsewhere.
        Assert.Equal(HttpStatusCode.Created, (await posts[0].WaitAsync(TimeSpan.FromSeconds(20))).StatusCode);
        Assert.False(posts[1].IsCompleted);
        await held.RollbackAsync();
        Assert.Equal(HttpStatusCode.Created, (await posts[1].WaitAsync(TimeSpan.FromSeconds(20))).StatusCode);
    }

    /// <summary>
    /// Keeps every commit runner of the node waiting (each on a channel whose stream lock the test holds), runs
    /// <paramref name="queue"/> (its posts can only queue), then lets the runners go: the first one free takes every
    /// channel queued meanwhile into its next transaction.
    /// </summary>
    private async Task<List<Task<HttpResponseMessage>>> WhileEveryCommitWaitsAsync(
        TestUser user, string ws, Func<Task<List<Task<HttpResponseMessage>>>> queue)
    {
        var blockers = new List<string>();
        for (var i = 0; i < GroupCommit<PostItem, EventSourcedChat.EventStore.AppendResult>.DefaultMaxRunners; i++)
        {
            blockers.Add(await ChannelAsync(user, ws, $"blocker-{i}"));
        }
        List<Task<HttpResponseMessage>> queued;
        Task<HttpResponseMessage[]> blocked;
        await using (var holder = await Db.DataSource.OpenConnectionAsync())
        {
            await using var tx = await holder.BeginTransactionAsync();
            foreach (var ch in blockers)
            {
                await LockStreamAsync(holder, tx, ch);
            }
            var sent = new List<Task<HttpResponseMessage>>();
            foreach (var ch in blockers)
            {
                // One at a time, each once the one before waits: each post gets a runner of its own.
                sent.Add(user.SendAsync("POST", $"/v1/channels/{ch}/messages", new { text = "blocker" }));
                await Eventually.Until(async () =>
                {
                    await using var waiting = Db.DataSource.CreateCommand("""
                        select count(*) from pg_stat_activity
                         where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'
                        """);
                    return (long)(await waiting.ExecuteScalarAsync())!;
                }, n => n == sent.Count, TimeSpan.FromSeconds(10), $"commit runner {sent.Count} to wait on a stream lock");
            }
            blocked = Task.WhenAll(sent);
            queued = await queue();
            await tx.RollbackAsync();
        }
        Assert.All(await blocked.WaitAsync(TimeSpan.FromSeconds(20)), a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        return queued;
    }

    private static async Task LockStreamAsync(NpgsqlConnection holder, NpgsqlTransaction tx, string channelId)
    {
        await using var lockIt = new NpgsqlCommand("select es_lock_stream($1)", holder, tx);
        lockIt.Parameters.Add(new NpgsqlParameter { Value = StreamNames.Channel(channelId) });
        await lockIt.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Holds the channel's stream lock, sends <paramref name="blocker"/> (its group waits on the lock), queues the
    /// <paramref name="sends"/> behind it, lets the lock go: the sends are decided and committed as one group.
    /// </summary>
    private async Task<(HttpResponseMessage Blocker, HttpResponseMessage[] Group)> InOneGroupAsync(
        string channelId, Func<Task<HttpResponseMessage>> blocker, params Func<Task<HttpResponseMessage>>[] sends)
    {
        var committed = Groups.Committed.Groups;
        Task<HttpResponseMessage> first;
        Task<HttpResponseMessage[]> group;
        await using (var holder = await Db.DataSource.OpenConnectionAsync())
        {
            await using var tx = await holder.BeginTransactionAsync();
            await using (var lockIt = new NpgsqlCommand("select es_lock_stream($1)", holder, tx))
            {
                lockIt.Parameters.Add(new NpgsqlParameter { Value = StreamNames.Channel(channelId) });
                await lockIt.ExecuteNonQueryAsync();
            }
            first = blocker();
            await Eventually.Until(async () =>
            {
                await using var waiting = Db.DataSource.CreateCommand("""
                    select count(*) from pg_stat_activity
                     where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'
                    """);
                return (long)(await waiting.ExecuteScalarAsync())!;
            }, n => n >= 1, TimeSpan.FromSeconds(10), "the first group to wait on the stream lock");
            var sent = new List<Task<HttpResponseMessage>>();
            foreach (var send in sends)
            {
                // One at a time, so the group holds them in this order.
                sent.Add(send());
                await Eventually.Until(() => Task.FromResult(Groups.Queued(channelId)), n => n == sent.Count,
                    TimeSpan.FromSeconds(10), $"post {sent.Count} to queue behind the first group");
            }
            group = Task.WhenAll(sent);
            await tx.RollbackAsync();
        }
        var answers = await group.WaitAsync(TimeSpan.FromSeconds(20));
        var blocked = await first.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(committed + 2, Groups.Committed.Groups);
        return (blocked, answers);
    }

    private static async Task<long> SeqAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("seq").GetInt64();

    private static async Task<long> PositionAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("position").GetInt64();
}
