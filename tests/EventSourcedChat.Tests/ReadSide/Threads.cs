using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// Counting in threads (issue 20): a mention in a thread reply counts in the channel's mention count like one in the
/// channel, and <c>GET /v1/workspaces/{ws}/threads</c> lists the threads the caller follows (as author, replier or by
/// hand) with their root, last reply, unread replies and mentions, newest activity first, in pages. Read through the
/// real host with <c>?minPosition=</c> after each command.
/// </summary>
public sealed class Threads(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task A_mention_in_a_thread_reply_counts_in_the_channel_until_read_edited_away_or_deleted()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob), "general");
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        var (root, _) = await PostAsync(ada, ch, "the plan");

        var (reply, position) = await PostAsync(bob, ch, $"<@{ada.UserId}> what about the budget?", root);
        var forAda = await ChannelViewAsync(ada, ch, position);
        Assert.Equal(1, forAda.GetProperty("mentionCount").GetInt64());
        Assert.Equal(0, forAda.GetProperty("unreadCount").GetInt64()); // replies are not unread in the channel
        Assert.Equal(0, (await ChannelViewAsync(bob, ch, position)).GetProperty("mentionCount").GetInt64());

        position = (await bob.Ok("PATCH", $"/v1/channels/{ch}/messages/{reply}", new { text = "what about the budget?" })).GetProperty("position").GetInt64();
        Assert.Equal(0, (await ChannelViewAsync(ada, ch, position)).GetProperty("mentionCount").GetInt64());
        position = (await bob.Ok("PATCH", $"/v1/channels/{ch}/messages/{reply}", new { text = $"<@{ada.UserId}> budget?" })).GetProperty("position").GetInt64();
        Assert.Equal(1, (await ChannelViewAsync(ada, ch, position)).GetProperty("mentionCount").GetInt64());
        position = (await bob.Ok("DELETE", $"/v1/channels/{ch}/messages/{reply}")).GetProperty("position").GetInt64();
        Assert.Equal(0, (await ChannelViewAsync(ada, ch, position)).GetProperty("mentionCount").GetInt64());

        var (later, _) = await PostAsync(bob, ch, $"and <@{ada.UserId}> the date?", root);
        var (_, last) = await PostAsync(bob, ch, $"<@{ada.UserId}> <@{ada.UserId}> twice, counted once", root);
        Assert.Equal(2, (await ChannelViewAsync(ada, ch, last)).GetProperty("mentionCount").GetInt64());
        position = (await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = later })).GetProperty("position").GetInt64();
        Assert.Equal(1, (await ChannelViewAsync(ada, ch, position)).GetProperty("mentionCount").GetInt64());
    }

    [Fact]
    public async Task The_threads_view_lists_followed_threads_with_unread_replies_newest_first_in_pages()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(bob, ada, carol);
        var ch = await ChannelAsync(bob, ws, "general");
        await ada.Ok("POST", $"/v1/channels/{ch}/join");
        await carol.Ok("POST", $"/v1/channels/{ch}/join");
        var (planning, _) = await PostAsync(bob, ch, "planning");
        var (lunch, _) = await PostAsync(bob, ch, "lunch?");
        await PostAsync(bob, ch, "nobody answers this one");

        await PostAsync(ada, ch, "I am in", planning);                         // ada follows planning as a replier
        await PostAsync(carol, ch, "me too", planning);
        var (mention, _) = await PostAsync(carol, ch, $"<@{ada.UserId}> bring the notes", planning);
        await ada.Ok("PUT", $"/v1/channels/{ch}/messages/{lunch}/follow");    // and lunch by hand
        var (pizza, position) = await PostAsync(carol, ch, "pizza", lunch);

        var page = await ThreadsAsync(ada, ws, position);
        Assert.Equal([lunch, planning], page.Select(t => t.GetProperty("rootSeq").GetInt64()));
        var (first, second) = (page[0], page[1]);
        Assert.Equal(ch, first.GetProperty("channelId").GetString());
        Assert.Equal("lunch?", first.GetProperty("root").GetProperty("text").GetString());
        Assert.Equal(pizza, first.GetProperty("lastReply").GetProperty("seq").GetInt64());
        Assert.Equal("pizza", first.GetProperty("lastReply").GetProperty("text").GetString());
        Assert.Equal(1, first.GetProperty("unreadReplies").GetInt64());
        Assert.Equal(0, first.GetProperty("mentionCount").GetInt64());
        Assert.Equal("planning", second.GetProperty("root").GetProperty("text").GetString());
        Assert.Equal(3, second.GetProperty("root").GetProperty("replyCount").GetInt32());
        Assert.Equal(mention, second.GetProperty("lastReply").GetProperty("seq").GetInt64());
        Assert.Equal(2, second.GetProperty("unreadReplies").GetInt64()); // carol's two; ada's own is not unread
        Assert.Equal(1, second.GetProperty("mentionCount").GetInt64());

        // bob follows both as their author (from their first reply), and has read nothing: every reply is unread.
        var forBob = await ThreadsAsync(bob, ws, position);
        Assert.Equal([lunch, planning], forBob.Select(t => t.GetProperty("rootSeq").GetInt64()));
        Assert.Equal([1L, 3L], forBob.Select(t => t.GetProperty("unreadReplies").GetInt64()));

        // One per page: the cursor leads to the second, which is the last.
        var one = await ada.Ok("GET", $"/v1/workspaces/{ws}/threads?limit=1&minPosition={position}");
        Assert.Equal(lunch, Assert.Single(one.GetProperty("threads").EnumerateArray()).GetProperty("rootSeq").GetInt64());
        var cursor = one.GetProperty("nextCursor").GetString()!;
        var two = await ada.Ok("GET", $"/v1/workspaces/{ws}/threads?limit=1&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(planning, Assert.Single(two.GetProperty("threads").EnumerateArray()).GetProperty("rootSeq").GetInt64());
        Assert.Equal(JsonValueKind.Null, two.GetProperty("nextCursor").ValueKind);
        await ada.Problem("GET", $"/v1/workspaces/{ws}/threads?cursor=not-a-cursor", null, HttpStatusCode.BadRequest, "invalid_request");

        // Reading the channel reads its replies; unfollowing drops the thread from the view.
        position = (await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = pizza })).GetProperty("position").GetInt64();
        page = await ThreadsAsync(ada, ws, position);
        Assert.All(page, t => Assert.Equal(0, t.GetProperty("unreadReplies").GetInt64()));
        Assert.All(page, t => Assert.Equal(0, t.GetProperty("mentionCount").GetInt64()));
        position = (await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{planning}/follow")).GetProperty("position").GetInt64();
        Assert.Equal([lunch], (await ThreadsAsync(ada, ws, position)).Select(t => t.GetProperty("rootSeq").GetInt64()));

        // A reply follows again; leaving the channel hides its threads.
        (_, position) = await PostAsync(ada, ch, "back in", planning);
        Assert.Equal([planning, lunch], (await ThreadsAsync(ada, ws, position)).Select(t => t.GetProperty("rootSeq").GetInt64()));
        position = (await carol.Ok("POST", $"/v1/channels/{ch}/leave")).GetProperty("position").GetInt64();
        Assert.Empty(await ThreadsAsync(carol, ws, position));
    }

    [Fact]
    public async Task The_threads_view_is_404_outside_the_workspace_and_empty_for_someone_following_nothing()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws, "general");
        var (root, _) = await PostAsync(ada, ch, "root");
        var (_, position) = await PostAsync(ada, ch, "own reply", root);

        Assert.Single(await ThreadsAsync(ada, ws, position));
        Assert.Empty(await ThreadsAsync(bob, ws, position));
        await eve.Problem("GET", $"/v1/workspaces/{ws}/threads", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", $"/v1/workspaces/{ws}/threads?limit=0", null, HttpStatusCode.BadRequest, "invalid_request");
    }

    private static async Task<List<JsonElement>> ThreadsAsync(TestUser user, string workspaceId, long minPosition) =>
        [.. (await user.Ok("GET", $"/v1/workspaces/{workspaceId}/threads?minPosition={minPosition}")).GetProperty("threads").EnumerateArray()];

    private static async Task<(long Seq, long Position)> PostAsync(TestUser user, string channelId, string text, long? threadRootSeq = null)
    {
        var posted = await user.Ok("POST", $"/v1/channels/{channelId}/messages", new { text, threadRootSeq }, HttpStatusCode.Created);
        return (posted.GetProperty("seq").GetInt64(), posted.GetProperty("position").GetInt64());
    }

    private static Task<JsonElement> ChannelViewAsync(TestUser user, string channelId, long minPosition) =>
        user.Ok("GET", $"/v1/channels/{channelId}?minPosition={minPosition}");
}
