using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

public sealed class Channels(PostgresFixture db) : ApiTest(db)
{
    // ---- rename and topic ----

    [Fact]
    public async Task Renaming_and_setting_the_topic_appends_both_events_and_moves_the_state()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{ch}/join");

        var answer = await bob.Ok("PATCH", $"/v1/channels/{ch}", new { name = "  lobby  ", topic = "Say hi" });

        var events = await EventsAsync(ch);
        Assert.Equal(["channel.renamed.v1", "channel.topic_set.v1"], events.TakeLast(2).Select(e => e.Type));
        Assert.Equal("lobby", events[^2].Data.GetProperty("name").GetString());
        Assert.Equal(bob.UserId, events[^2].Data.GetProperty("by").GetString());
        Assert.Equal("Say hi", events[^1].Data.GetProperty("topic").GetString());
        Assert.Equal(await HeadPositionAsync(ch), answer.GetProperty("position").GetInt64());
        // The old name is free again, the new one taken.
        await ChannelAsync(ada, ws, "general");
        await ada.Problem("POST", $"/v1/workspaces/{ws}/channels", new { name = "lobby" }, HttpStatusCode.Conflict, "name_taken");
    }

    [Fact]
    public async Task Patching_what_already_holds_appends_nothing_and_answers_the_head_position()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada), "general");
        await ada.Ok("PATCH", $"/v1/channels/{ch}", new { topic = "t" });
        var before = await EventCountAsync();

        var same = await ada.Ok("PATCH", $"/v1/channels/{ch}", new { name = "general", topic = "t" });
        var empty = await ada.Ok("PATCH", $"/v1/channels/{ch}", new { });

        Assert.Equal(before, await EventCountAsync());
        Assert.Equal(await HeadPositionAsync(ch), same.GetProperty("position").GetInt64());
        Assert.Equal(await HeadPositionAsync(ch), empty.GetProperty("position").GetInt64());
    }

    [Fact]
    public async Task An_empty_topic_clears_it()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await ada.Ok("PATCH", $"/v1/channels/{ch}", new { topic = "t" });

        await ada.Ok("PATCH", $"/v1/channels/{ch}", new { topic = "" });

        var last = (await EventsAsync(ch))[^1];
        Assert.Equal("channel.topic_set.v1", last.Type);
        Assert.Equal(JsonValueKind.Null, last.Data.GetProperty("topic").ValueKind);
    }

    [Fact]
    public async Task Renaming_to_a_taken_name_is_name_taken()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        await ChannelAsync(ada, ws, "taken");
        var ch = await ChannelAsync(ada, ws, "mine");
        var before = await EventCountAsync();

        await ada.Problem("PATCH", $"/v1/channels/{ch}", new { name = "taken" }, HttpStatusCode.Conflict, "name_taken");

        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task The_same_name_in_another_workspace_is_free()
    {
        var ada = await RegisterAsync("ada");
        await ChannelAsync(ada, await WorkspaceAsync(ada), "taken");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada), "mine");

        await ada.Ok("PATCH", $"/v1/channels/{ch}", new { name = "taken" });

        Assert.Equal("channel.renamed.v1", (await EventsAsync(ch))[^1].Type);
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("x-81-characters-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public async Task Renaming_to_an_invalid_name_is_invalid_request(string name)
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var before = await EventCountAsync();

        await ada.Problem("PATCH", $"/v1/channels/{ch}", new { name }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("PATCH", $"/v1/channels/{ch}", new { topic = new string('t', 251) }, HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task A_name_of_80_characters_is_accepted()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var name = new string('a', 80);

        await ada.Ok("PATCH", $"/v1/channels/{ch}", new { name });

        Assert.Equal(name, (await EventsAsync(ch))[^1].Data.GetProperty("name").GetString());
    }

    // ---- archive ----

    [Fact]
    public async Task Archiving_stops_posts_joins_invites_and_edits_until_unarchived()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);

        var archived = await ada.Ok("POST", $"/v1/channels/{ch}/archive");
        Assert.Equal("channel.archived.v1", (await EventsAsync(ch))[^1].Type);
        Assert.Equal(await HeadPositionAsync(ch), archived.GetProperty("position").GetInt64());
        var before = await EventCountAsync();

        await ada.Problem("POST", $"/v1/channels/{ch}/messages", new { text = "hi" }, HttpStatusCode.Conflict, "channel_archived");
        await ada.Problem("PATCH", $"/v1/channels/{ch}", new { topic = "t" }, HttpStatusCode.Conflict, "channel_archived");
        await bob.Problem("POST", $"/v1/channels/{ch}/join", null, HttpStatusCode.Conflict, "channel_archived");
        await ada.Problem("POST", $"/v1/channels/{ch}/members", new { userId = bob.UserId }, HttpStatusCode.Conflict, "channel_archived");
        Assert.Equal(before, await EventCountAsync());

        await ada.Ok("POST", $"/v1/channels/{ch}/unarchive");
        Assert.Equal("channel.unarchived.v1", (await EventsAsync(ch))[^1].Type);
        await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "back" }, HttpStatusCode.Created);
    }

    [Fact]
    public async Task Archiving_an_archived_channel_is_a_no_op_answering_the_head_position()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await ada.Ok("POST", $"/v1/channels/{ch}/archive");
        var before = await EventCountAsync();

        var again = await ada.Ok("POST", $"/v1/channels/{ch}/archive");

        Assert.Equal(before, await EventCountAsync());
        Assert.Equal(await HeadPositionAsync(ch), again.GetProperty("position").GetInt64());
        await ada.Ok("POST", $"/v1/channels/{ch}/unarchive");
        var count = await EventCountAsync();
        await ada.Ok("POST", $"/v1/channels/{ch}/unarchive");
        Assert.Equal(count, await EventCountAsync());
    }

    [Fact]
    public async Task Only_the_creator_or_a_workspace_admin_archives()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var ch = await ChannelAsync(bob, ws, "bobs");
        await carol.Ok("POST", $"/v1/channels/{ch}/join");
        var before = await EventCountAsync();

        await carol.Problem("POST", $"/v1/channels/{ch}/archive", null, HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(before, await EventCountAsync());

        await bob.Ok("POST", $"/v1/channels/{ch}/archive");
        await carol.Problem("POST", $"/v1/channels/{ch}/unarchive", null, HttpStatusCode.Forbidden, "forbidden");
        await ada.Ok("POST", $"/v1/channels/{ch}/unarchive"); // workspace admin, not a channel member
        await using var cmd = Db.DataSource.CreateCommand($"select archived from ws_channels where channel_id = '{ch}'");
        Assert.False((bool)(await cmd.ExecuteScalarAsync())!);
    }

    // ---- join and leave ----

    [Fact]
    public async Task Joining_a_public_channel_lets_the_user_post_and_leaving_makes_posting_not_in_channel()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));

        var joined = await bob.Ok("POST", $"/v1/channels/{ch}/join");
        var join = (await EventsAsync(ch))[^1];
        Assert.Equal("member.joined.v1", join.Type);
        Assert.Equal(bob.UserId, join.Data.GetProperty("userId").GetString());
        Assert.Equal(JsonValueKind.Null, join.Data.GetProperty("invitedBy").ValueKind);
        Assert.Equal(await HeadPositionAsync(ch), joined.GetProperty("position").GetInt64());
        await bob.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "hi" }, HttpStatusCode.Created);

        await bob.Ok("POST", $"/v1/channels/{ch}/leave");
        var leave = (await EventsAsync(ch))[^1];
        Assert.Equal("member.left.v1", leave.Type);
        Assert.Equal(JsonValueKind.Null, leave.Data.GetProperty("removedBy").ValueKind);
        await bob.Problem("POST", $"/v1/channels/{ch}/messages", new { text = "hi" }, HttpStatusCode.Forbidden, "not_in_channel");
    }

    [Fact]
    public async Task Joining_when_already_a_member_is_a_no_op()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var before = await EventCountAsync();

        var answer = await ada.Ok("POST", $"/v1/channels/{ch}/join");

        Assert.Equal(before, await EventCountAsync());
        Assert.Equal(await HeadPositionAsync(ch), answer.GetProperty("position").GetInt64());
    }

    [Fact]
    public async Task Joining_a_private_channel_is_not_found_as_if_missing()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        var before = await EventCountAsync();

        var hidden = await bob.Problem("POST", $"/v1/channels/{secret}/join", null, HttpStatusCode.NotFound, "not_found");
        var missing = await bob.Problem("POST", $"/v1/channels/{Guid.NewGuid():N}/join", null, HttpStatusCode.NotFound, "not_found");

        Assert.Equal(missing.GetProperty("detail").GetString(), hidden.GetProperty("detail").GetString());
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Leaving_a_channel_one_is_not_in_is_not_in_channel()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        var before = await EventCountAsync();

        await bob.Problem("POST", $"/v1/channels/{ch}/leave", null, HttpStatusCode.Forbidden, "not_in_channel");

        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Leaving_a_private_channel_makes_it_invisible()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var secret = await ChannelAsync(ada, await WorkspaceAsync(ada, bob), "secret", isPrivate: true);
        await ada.Ok("POST", $"/v1/channels/{secret}/members", new { userId = bob.UserId });

        await bob.Ok("POST", $"/v1/channels/{secret}/leave");

        await bob.Problem("POST", $"/v1/channels/{secret}/leave", null, HttpStatusCode.NotFound, "not_found");
        await bob.Problem("POST", $"/v1/channels/{secret}/messages", new { text = "hi" }, HttpStatusCode.NotFound, "not_found");
    }

    // ---- invite and remove ----

    [Fact]
    public async Task A_member_invites_a_workspace_member_into_a_private_channel()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var secret = await ChannelAsync(ada, await WorkspaceAsync(ada, bob, carol), "secret", isPrivate: true);
        await ada.Ok("POST", $"/v1/channels/{secret}/members", new { userId = bob.UserId });

        var answer = await bob.Ok("POST", $"/v1/channels/{secret}/members", new { userId = carol.UserId });

        var invite = (await EventsAsync(secret))[^1];
        Assert.Equal("member.joined.v1", invite.Type);
        Assert.Equal(carol.UserId, invite.Data.GetProperty("userId").GetString());
        Assert.Equal(bob.UserId, invite.Data.GetProperty("invitedBy").GetString());
        Assert.Equal(await HeadPositionAsync(secret), answer.GetProperty("position").GetInt64());
        await carol.Ok("POST", $"/v1/channels/{secret}/messages", new { text = "thanks" }, HttpStatusCode.Created);
    }

    [Fact]
    public async Task Inviting_a_member_again_is_a_no_op()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        await ada.Ok("POST", $"/v1/channels/{ch}/members", new { userId = bob.UserId });
        var before = await EventCountAsync();

        var again = await ada.Ok("POST", $"/v1/channels/{ch}/members", new { userId = bob.UserId });

        Assert.Equal(before, await EventCountAsync());
        Assert.Equal(await HeadPositionAsync(ch), again.GetProperty("position").GetInt64());
    }

    [Fact]
    public async Task Inviting_someone_outside_the_workspace_is_not_found()
    {
        var ada = await RegisterAsync("ada");
        var eve = await RegisterAsync("eve");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var before = await EventCountAsync();

        await ada.Problem("POST", $"/v1/channels/{ch}/members", new { userId = eve.UserId }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("POST", $"/v1/channels/{ch}/members", new { userId = "nobody" }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("POST", $"/v1/channels/{ch}/members", new { }, HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task The_creator_removes_a_member_who_then_cannot_see_the_private_channel()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var secret = await ChannelAsync(ada, await WorkspaceAsync(ada, bob), "secret", isPrivate: true);
        await ada.Ok("POST", $"/v1/channels/{secret}/members", new { userId = bob.UserId });
        await bob.Ok("POST", $"/v1/channels/{secret}/messages", new { text = "in" }, HttpStatusCode.Created);

        var answer = await ada.Ok("DELETE", $"/v1/channels/{secret}/members/{bob.UserId}");

        var removal = (await EventsAsync(secret))[^1];
        Assert.Equal("member.left.v1", removal.Type);
        Assert.Equal(bob.UserId, removal.Data.GetProperty("userId").GetString());
        Assert.Equal(ada.UserId, removal.Data.GetProperty("removedBy").GetString());
        Assert.Equal(await HeadPositionAsync(secret), answer.GetProperty("position").GetInt64());
        await bob.Problem("POST", $"/v1/channels/{secret}/messages", new { text = "still?" }, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_workspace_admin_removes_from_a_channel_they_did_not_create_and_others_may_not()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ch = await ChannelAsync(bob, await WorkspaceAsync(ada, bob, carol), "bobs");
        await carol.Ok("POST", $"/v1/channels/{ch}/join");
        var before = await EventCountAsync();

        await carol.Problem("DELETE", $"/v1/channels/{ch}/members/{bob.UserId}", null, HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(before, await EventCountAsync());

        await ada.Ok("DELETE", $"/v1/channels/{ch}/members/{carol.UserId}");
        await carol.Problem("POST", $"/v1/channels/{ch}/messages", new { text = "hi" }, HttpStatusCode.Forbidden, "not_in_channel");
    }

    [Fact]
    public async Task Removing_someone_who_is_not_a_member_is_not_found()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        var before = await EventCountAsync();

        await ada.Problem("DELETE", $"/v1/channels/{ch}/members/{bob.UserId}", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("DELETE", $"/v1/channels/{ch}/members/nobody", null, HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Concurrent_removals_and_posts_serialize_through_the_channel_version()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        await bob.Ok("POST", $"/v1/channels/{ch}/join");

        var posts = Enumerable.Range(0, 10).Select(i => bob.SendAsync("POST", $"/v1/channels/{ch}/messages", new { text = $"m{i}" })).ToList();
        var removal = ada.SendAsync("DELETE", $"/v1/channels/{ch}/members/{bob.UserId}");
        var answers = await Task.WhenAll(posts);
        Assert.Equal(HttpStatusCode.OK, (await removal).StatusCode);

        // Every post bob got a 201 for is before his removal in the channel's order; every later one was refused.
        var events = await EventsAsync(ch);
        var removedAt = events.FindIndex(e => e.Type == "member.left.v1");
        Assert.DoesNotContain(events.Skip(removedAt + 1), e => e.Type == "message.posted.v1");
        Assert.Equal(answers.Count(a => a.StatusCode == HttpStatusCode.Created), events.Count(e => e.Type == "message.posted.v1"));
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Forbidden }));
        await using var version = Db.DataSource.CreateCommand($"select version from ws_channels where channel_id = '{ch}'");
        Assert.Equal((long)events.Count, (long)(await version.ExecuteScalarAsync())!);
    }

    // ---- DMs ----

    [Fact]
    public async Task The_same_set_of_people_opens_the_same_dm()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);

        var first = await ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId, carol.UserId } });
        var dm = first.GetProperty("channelId").GetString()!;
        var count = await EventCountAsync();
        var again = await carol.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId, ada.UserId, bob.UserId, carol.UserId } });
        var pair = await ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId } });

        Assert.Equal(dm, again.GetProperty("channelId").GetString());
        Assert.Equal(first.GetProperty("position").GetInt64(), again.GetProperty("position").GetInt64());
        Assert.NotEqual(dm, pair.GetProperty("channelId").GetString());
        Assert.Equal(count + 3, await EventCountAsync()); // only the pair's created + 2 joins

        var events = await EventsAsync(dm);
        Assert.Equal(["channel.created.v1", "member.joined.v1", "member.joined.v1", "member.joined.v1"], events.Select(e => e.Type));
        Assert.Equal("dm", events[0].Data.GetProperty("kind").GetString());
        Assert.Equal(
            new[] { ada.UserId, bob.UserId, carol.UserId }.Order(StringComparer.Ordinal),
            events[0].Data.GetProperty("members").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(
            new[] { ada.UserId, bob.UserId, carol.UserId }.Order(StringComparer.Ordinal),
            events.Skip(1).Select(e => e.Data.GetProperty("userId").GetString()));
    }

    [Fact]
    public async Task Dm_members_post_and_others_do_not_see_it()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var dm = (await ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId } })).GetProperty("channelId").GetString();

        await bob.Ok("POST", $"/v1/channels/{dm}/messages", new { text = "hi ada" }, HttpStatusCode.Created);
        var position = (await ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId } })).GetProperty("position").GetInt64();

        Assert.Equal(await HeadPositionAsync(dm!), position); // reopening answers the head, after the message
        var before = await EventCountAsync();
        await carol.Problem("POST", $"/v1/channels/{dm}/messages", new { text = "hi" }, HttpStatusCode.NotFound, "not_found");
        await carol.Problem("POST", $"/v1/channels/{dm}/join", null, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task A_dm_cannot_be_renamed_archived_left_or_changed_in_membership()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var dm = (await ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId } })).GetProperty("channelId").GetString();
        var before = await EventCountAsync();

        await ada.Problem("PATCH", $"/v1/channels/{dm}", new { name = "ours" }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/channels/{dm}/archive", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/channels/{dm}/unarchive", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/channels/{dm}/leave", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/channels/{dm}/members", new { userId = carol.UserId }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("DELETE", $"/v1/channels/{dm}/members/{bob.UserId}", null, HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Opening_a_dm_with_nobody_too_many_or_outsiders_is_rejected()
    {
        var ada = await RegisterAsync("ada");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada);
        var before = await EventCountAsync();
        var nine = Enumerable.Range(0, 9).Select(_ => Guid.NewGuid().ToString("N")).ToArray();

        await ada.Problem("POST", $"/v1/workspaces/{ws}/dms", new { userIds = Array.Empty<string>() }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/workspaces/{ws}/dms", new { }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { ada.UserId, ada.UserId } }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/workspaces/{ws}/dms", new { userIds = nine }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { eve.UserId } }, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { ada.UserId } }, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("POST", $"/v1/workspaces/{ws}/dms", new { userIds = Array.Empty<string>() }, HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Ten_concurrent_opens_of_one_dm_give_one_channel_and_one_created_event()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => i % 2 == 0
            ? ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId } })
            : bob.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { ada.UserId } })));

        Assert.Single(answers.Select(a => a.GetProperty("channelId").GetString()).Distinct());
        await using var cmd = Db.DataSource.CreateCommand("select count(*) from es_events where type = 'channel.created.v1' and data->>'kind' = 'dm'");
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
        await using var members = Db.DataSource.CreateCommand("select count(*) from ws_channel_members m join ws_channels c using (channel_id) where c.kind = 'dm'");
        Assert.Equal(2L, await members.ExecuteScalarAsync());
    }

    // ---- who may do what ----

    public static TheoryData<string, string, string, int, string> Intruders()
    {
        var data = new TheoryData<string, string, string, int, string>();
        string[] actions = ["patch", "archive", "unarchive", "join", "leave", "invite", "remove", "post"];
        foreach (var intruder in new[] { "non-member", "removed member", "other workspace" })
        {
            foreach (var action in actions)
            {
                data.Add(intruder, "private", action, 404, "not_found");
                if (intruder == "other workspace")
                {
                    data.Add(intruder, "public", action, 404, "not_found");
                }
                else if (action != "join") // a workspace member may join a public channel
                {
                    var forbidden = action is "archive" or "unarchive" or "remove";
                    data.Add(intruder, "public", action, 403, forbidden ? "forbidden" : "not_in_channel");
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Intruders))]
    public async Task Outsiders_cannot_act_on_a_channel(string intruder, string kind, string action, int status, string code)
    {
        var ada = await RegisterAsync("ada");
        var carol = await RegisterAsync("carol");
        var erin = await RegisterAsync("erin");
        var mallory = await RegisterAsync("mallory");
        var ws = await WorkspaceAsync(ada, carol, erin, mallory);
        var ch = await ChannelAsync(ada, ws, "room", isPrivate: kind == "private");
        await ada.Ok("POST", $"/v1/channels/{ch}/members", new { userId = carol.UserId });
        if (intruder == "removed member")
        {
            await ada.Ok("POST", $"/v1/channels/{ch}/members", new { userId = mallory.UserId });
            await mallory.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "was here" }, HttpStatusCode.Created);
            await ada.Ok("DELETE", $"/v1/channels/{ch}/members/{mallory.UserId}");
        }
        else if (intruder == "other workspace")
        {
            mallory = await RegisterAsync("mallory");
            await WorkspaceAsync(mallory); // an admin, but of another workspace
        }
        var before = await EventCountAsync();

        var (method, path, body) = action switch
        {
            "patch" => ("PATCH", $"/v1/channels/{ch}", (object?)new { name = "hacked", topic = "pwned" }),
            "archive" => ("POST", $"/v1/channels/{ch}/archive", null),
            "unarchive" => ("POST", $"/v1/channels/{ch}/unarchive", null),
            "join" => ("POST", $"/v1/channels/{ch}/join", null),
            "leave" => ("POST", $"/v1/channels/{ch}/leave", null),
            "invite" => ("POST", $"/v1/channels/{ch}/members", new { userId = erin.UserId }),
            "remove" => ("DELETE", $"/v1/channels/{ch}/members/{carol.UserId}", null),
            _ => ("POST", $"/v1/channels/{ch}/messages", new { text = "hi" }),
        };
        await mallory.Problem(method, path, body, (HttpStatusCode)status, code);

        Assert.Equal(before, await EventCountAsync());
    }

    // ---- helpers ----

    private sealed record StoredEvent(string Type, JsonElement Data);

    private async Task<List<StoredEvent>> EventsAsync(string channelId)
    {
        await using var cmd = Db.DataSource.CreateCommand("select type, data::text from es_events where stream_id = $1 order by version");
        cmd.Parameters.AddWithValue($"channel-{channelId}");
        await using var r = await cmd.ExecuteReaderAsync();
        var list = new List<StoredEvent>();
        while (await r.ReadAsync())
        {
            list.Add(new StoredEvent(r.GetString(0), JsonDocument.Parse(r.GetString(1)).RootElement.Clone()));
        }
        return list;
    }

    private async Task<long> HeadPositionAsync(string channelId)
    {
        await using var cmd = Db.DataSource.CreateCommand("select max(position) from es_events where stream_id = $1");
        cmd.Parameters.AddWithValue($"channel-{channelId}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
