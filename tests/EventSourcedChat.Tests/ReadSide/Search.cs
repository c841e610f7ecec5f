using System.Globalization;
using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>GET /v1/search through the real host, its projections running; every read waits for the last write.</summary>
public sealed class Search(PostgresFixture db) : ApiTest(db)
{
    private sealed record Posted(string ChannelId, long Seq, long Position, DateTimeOffset CreatedAt);

    private sealed record Hit(string ChannelId, long Seq, string Text, string Highlight, string UserId, DateTimeOffset CreatedAt);

    private sealed record Found(List<Hit> Results, bool HasMore)
    {
        public List<string> Texts => Results.Select(r => r.Text).ToList();
    }

    private static async Task<Posted> PostAsync(TestUser user, string ch, string text, long? threadRootSeq = null)
    {
        var body = await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text, threadRootSeq }, HttpStatusCode.Created);
        return new Posted(ch, body.GetProperty("seq").GetInt64(), body.GetProperty("position").GetInt64(),
            body.GetProperty("createdAt").GetDateTimeOffset());
    }

    private static string Query(string ws, string q, long minPosition, string extra = "") =>
        $"/v1/search?workspaceId={Uri.EscapeDataString(ws)}&q={Uri.EscapeDataString(q)}&minPosition={minPosition}{extra}";

    private static async Task<Found> SearchAsync(TestUser user, string ws, string q, long minPosition, string extra = "")
    {
        var body = await user.Ok("GET", Query(ws, q, minPosition, extra));
        var results = body.GetProperty("results").EnumerateArray().Select(r => new Hit(
            r.GetProperty("channelId").GetString()!, r.GetProperty("seq").GetInt64(), r.GetProperty("text").GetString()!,
            r.GetProperty("highlight").GetString()!, r.GetProperty("userId").GetString()!, r.GetProperty("createdAt").GetDateTimeOffset())).ToList();
        return new Found(results, body.GetProperty("hasMore").GetBoolean());
    }

    private static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture));

    private static long PositionOf(JsonElement answer) => answer.GetProperty("position").GetInt64();

    [Fact]
    public async Task A_word_finds_messages_and_replies_ranked_by_relevance_then_recency_with_highlights()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var once = await PostAsync(ada, ch, "we deploy on fridays sometimes");
        var thrice = await PostAsync(ada, ch, "deploy deploy deploy the api");
        await PostAsync(ada, ch, "nothing to see here");
        var reply = await PostAsync(ada, ch, "I deployed it already", once.Seq);

        var found = await SearchAsync(ada, ws, "deploying", reply.Position);

        Assert.False(found.HasMore);
        Assert.Equal(["deploy deploy deploy the api", "I deployed it already", "we deploy on fridays sometimes"], found.Texts);
        var top = found.Results[0];
        Assert.Equal((ch, thrice.Seq, ada.UserId), (top.ChannelId, top.Seq, top.UserId));
        Assert.Equal(thrice.CreatedAt, top.CreatedAt);
        Assert.Equal("<mark>deploy</mark> <mark>deploy</mark> <mark>deploy</mark> the api", top.Highlight);
        Assert.Equal("I <mark>deployed</mark> it already", found.Results[1].Highlight);
        Assert.Equal(reply.Seq, found.Results[1].Seq);
    }

    [Fact]
    public async Task Highlights_escape_html_in_the_text()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var posted = await PostAsync(ada, ch, "<script>alert(1)</script> secret & \"quoted\" it's");

        var word = (await SearchAsync(ada, ws, "secret", posted.Position)).Results.Single();
        var substring = (await SearchAsync(ada, ws, "cret &", posted.Position)).Results.Single();

        Assert.Equal("<script>alert(1)</script> secret & \"quoted\" it's", word.Text);
        Assert.Contains("<mark>secret</mark>", word.Highlight, StringComparison.Ordinal);
        Assert.Equal("&lt;script&gt;alert(1)&lt;/script&gt; se<mark>cret &amp;</mark> &quot;quoted&quot; it&#39;s", substring.Highlight);
        foreach (var highlight in new[] { word.Highlight, substring.Highlight })
        {
            var withoutMarks = highlight.Replace("<mark>", "", StringComparison.Ordinal).Replace("</mark>", "", StringComparison.Ordinal);
            Assert.DoesNotContain('<', withoutMarks);
            Assert.DoesNotContain('>', withoutMarks);
            Assert.DoesNotContain('"', withoutMarks);
        }
    }

    [Fact]
    public async Task An_edit_replaces_the_searchable_text()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var posted = await PostAsync(ada, ch, "the quarterly report is late");
        Assert.Single((await SearchAsync(ada, ws, "quarterly", posted.Position)).Results);

        var edited = PositionOf(await ada.Ok("PATCH", $"/v1/channels/{ch}/messages/{posted.Seq}", new { text = "the annual summary is late" }));

        Assert.Empty((await SearchAsync(ada, ws, "quarterly", edited)).Results);
        Assert.Empty((await SearchAsync(ada, ws, "uarterl", edited)).Results);
        var hit = (await SearchAsync(ada, ws, "annual", edited)).Results.Single();
        Assert.Equal((posted.Seq, "the annual summary is late"), (hit.Seq, hit.Text));
    }

    [Fact]
    public async Task A_deleted_message_is_gone_from_search()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var gone = await PostAsync(ada, ch, "password is hunter2");
        await PostAsync(ada, ch, "please forget my password");

        var deleted = PositionOf(await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{gone.Seq}"));

        Assert.Equal(["please forget my password"], (await SearchAsync(ada, ws, "password", deleted)).Texts);
        Assert.Empty((await SearchAsync(ada, ws, "hunter2", deleted)).Results);
        Assert.Empty((await SearchAsync(ada, ws, "unter", deleted)).Results);
    }

    [Fact]
    public async Task Filters_by_channel_author_and_time_narrow_the_results()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        var random = await ChannelAsync(ada, ws, "random");
        await bob.Ok("POST", $"/v1/channels/{general}/join");
        var first = await PostAsync(ada, general, "coffee one");
        var second = await PostAsync(bob, general, "coffee two");
        var third = await PostAsync(ada, random, "coffee three");
        var last = third.Position;

        Assert.Equal(["coffee three", "coffee two", "coffee one"], (await SearchAsync(ada, ws, "coffee", last)).Texts);
        Assert.Equal(["coffee two", "coffee one"], (await SearchAsync(ada, ws, "coffee", last, $"&channelId={general}")).Texts);
        Assert.Equal(["coffee three"], (await SearchAsync(ada, ws, "coffee", last, $"&channelId={random}")).Texts);
        Assert.Equal(["coffee two"], (await SearchAsync(ada, ws, "coffee", last, $"&fromUserId={bob.UserId}")).Texts);
        Assert.Equal(["coffee three", "coffee one"], (await SearchAsync(ada, ws, "coffee", last, $"&fromUserId={ada.UserId}")).Texts);
        Assert.Equal(["coffee three", "coffee two"], (await SearchAsync(ada, ws, "coffee", last, $"&after={Iso(first.CreatedAt)}")).Texts);
        Assert.Equal(["coffee two", "coffee one"], (await SearchAsync(ada, ws, "coffee", last, $"&before={Iso(third.CreatedAt)}")).Texts);
        Assert.Equal(["coffee two"],
            (await SearchAsync(ada, ws, "coffee", last, $"&after={Iso(first.CreatedAt)}&before={Iso(third.CreatedAt)}")).Texts);
        Assert.Empty((await SearchAsync(ada, ws, "coffee", last, $"&after={Iso(second.CreatedAt)}&fromUserId={bob.UserId}")).Results);
        // The substring path keeps to the same filters.
        Assert.Equal(["coffee two"], (await SearchAsync(ada, ws, "ffee t", last, $"&channelId={general}")).Texts);
        Assert.Equal(["coffee two"], (await SearchAsync(ada, ws, "ffee", last, $"&fromUserId={bob.UserId}&before={Iso(third.CreatedAt)}")).Texts);
    }

    [Fact]
    public async Task Limit_pages_with_has_more()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        await PostAsync(ada, ch, "tea 1");
        await PostAsync(ada, ch, "tea 2");
        var last = (await PostAsync(ada, ch, "tea 3")).Position;

        var two = await SearchAsync(ada, ws, "tea", last, "&limit=2");
        var three = await SearchAsync(ada, ws, "tea", last, "&limit=3");
        var substring = await SearchAsync(ada, ws, "ea ", last, "&limit=2");

        Assert.True(two.HasMore);
        Assert.Equal(["tea 3", "tea 2"], two.Texts);
        Assert.False(three.HasMore);
        Assert.Equal(3, three.Results.Count);
        Assert.True(substring.HasMore);
        Assert.Equal(2, substring.Results.Count);
    }

    [Fact]
    public async Task A_fragment_of_a_word_is_found_as_a_substring()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        await PostAsync(ada, ch, "no match in this one");
        var posted = await PostAsync(ada, ch, "Keep the SECRETS safe");

        var hit = (await SearchAsync(ada, ws, "cret", posted.Position)).Results.Single();

        Assert.Equal("Keep the SECRETS safe", hit.Text);
        Assert.Equal("Keep the SE<mark>CRET</mark>S safe", hit.Highlight);
    }

    [Fact]
    public async Task A_cjk_phrase_is_found_inside_a_sentence()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        await PostAsync(ada, ch, "明日は大阪で休みです");
        var posted = await PostAsync(ada, ch, "今日は東京で会議があります");

        var found = await SearchAsync(ada, ws, "東京で会議", posted.Position);

        var hit = Assert.Single(found.Results);
        Assert.Equal("今日は東京で会議があります", hit.Text);
        Assert.Equal("今日は<mark>東京で会議</mark>があります", hit.Highlight);
        Assert.Empty((await SearchAsync(ada, ws, "東京で休み", posted.Position)).Results);
    }

    [Fact]
    public async Task After_leaving_a_channel_its_messages_are_not_found()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        var posted = await PostAsync(ada, ch, "launch plans for march");
        Assert.Single((await SearchAsync(bob, ws, "launch", posted.Position)).Results);

        var left = PositionOf(await bob.Ok("POST", $"/v1/channels/{ch}/leave"));

        Assert.Empty((await SearchAsync(bob, ws, "launch", left)).Results);
        Assert.Empty((await SearchAsync(bob, ws, "aunch", left)).Results);
        // The public channel is still visible to him, so filtering on it is allowed; it finds nothing.
        Assert.Empty((await SearchAsync(bob, ws, "launch", left, $"&channelId={ch}")).Results);
        Assert.Single((await SearchAsync(ada, ws, "launch", left)).Results);
    }

    [Fact]
    public async Task Nothing_from_other_peoples_private_channels_and_filtering_on_one_is_not_found()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var secret = await ChannelAsync(ada, ws, "board", isPrivate: true);
        var open = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{open}/join");
        await PostAsync(ada, secret, "salary review for bob");
        var last = (await PostAsync(ada, open, "salary day is friday")).Position;

        Assert.Equal(["salary day is friday"], (await SearchAsync(bob, ws, "salary", last)).Texts);
        Assert.Equal(["salary day is friday"], (await SearchAsync(bob, ws, "alary", last)).Texts);
        Assert.Equal(2, (await SearchAsync(ada, ws, "salary", last)).Results.Count);
        await bob.Problem("GET", Query(ws, "salary", last, $"&channelId={secret}"), null, HttpStatusCode.NotFound, "not_found");
        await bob.Problem("GET", Query(ws, "salary", last, "&channelId=no-such-channel"), null, HttpStatusCode.NotFound, "not_found");

        var invited = PositionOf(await ada.Ok("POST", $"/v1/channels/{secret}/members", new { userId = bob.UserId }));
        Assert.Equal(2, (await SearchAsync(bob, ws, "salary", invited)).Results.Count);
    }

    [Fact]
    public async Task A_channel_of_another_workspace_is_not_found_as_a_filter_and_never_found()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var other = await WorkspaceAsync(ada);
        var elsewhere = await ChannelAsync(ada, other);
        var last = (await PostAsync(ada, elsewhere, "budget numbers")).Position;

        Assert.Empty((await SearchAsync(ada, ws, "budget", last)).Results);
        Assert.Single((await SearchAsync(ada, other, "budget", last)).Results);
        await ada.Problem("GET", Query(ws, "budget", last, $"&channelId={elsewhere}"), null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_caller_outside_the_workspace_gets_not_found()
    {
        var ada = await RegisterAsync("ada");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var last = (await PostAsync(ada, ch, "internal memo")).Position;

        await eve.Problem("GET", Query(ws, "memo", last), null, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("GET", Query(ws, "memo", last, $"&channelId={ch}"), null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", Query("no-such-workspace", "memo", last), null, HttpStatusCode.NotFound, "not_found");
        var anonymous = await Anonymous().GetAsync(Query(ws, "memo", last));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Theory]
    [InlineData("q=hello")]
    [InlineData("workspaceId=&q=hello")]
    [InlineData("workspaceId={ws}")]
    [InlineData("workspaceId={ws}&q=")]
    [InlineData("workspaceId={ws}&q=%20%20%20")]
    [InlineData("workspaceId={ws}&q={long}")]
    [InlineData("workspaceId={ws}&q=a%00b")]
    [InlineData("workspaceId={ws}&q=hello&limit=0")]
    [InlineData("workspaceId={ws}&q=hello&limit=101")]
    [InlineData("workspaceId={ws}&q=hello&limit=ten")]
    [InlineData("workspaceId={ws}&q=hello&limit=-1")]
    [InlineData("workspaceId={ws}&q=hello&before=yesterday")]
    [InlineData("workspaceId={ws}&q=hello&after=2025-13-45T00:00:00Z")]
    [InlineData("workspaceId={ws}&q=hello&after=12/01/2025")]
    [InlineData("workspaceId={ws}&q=hello&minPosition=x")]
    public async Task Invalid_queries_are_invalid_request(string query)
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var path = "/v1/search?" + query.Replace("{ws}", ws, StringComparison.Ordinal)
            .Replace("{long}", new string('x', 201), StringComparison.Ordinal);

        await ada.Problem("GET", path, null, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Edge_values_are_accepted()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var last = (await PostAsync(ada, ch, "x")).Position;

        Assert.Empty((await SearchAsync(ada, ws, new string('x', 200), last, "&limit=100")).Results);
        Assert.Single((await SearchAsync(ada, ws, "  x  ", last, "&limit=1&after=2000-01-01&before=2999-01-01T00:00:00%2B02:00")).Results);
    }

    [Fact]
    public async Task Sql_and_like_metacharacters_match_literally()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        foreach (var text in new[] { "100% done", "100 done", "snake_case name", "snakeXcase name", "it's fine", "its fine", @"C:\temp\x", "plain words" })
        {
            await PostAsync(ada, ch, text);
        }
        var last = (await PostAsync(ada, ch, "last one")).Position;

        Assert.Equal(["100% done"], (await SearchAsync(ada, ws, "%", last)).Texts);
        Assert.Equal(["100% done"], (await SearchAsync(ada, ws, "100%", last)).Texts);
        Assert.Equal(["snake_case name"], (await SearchAsync(ada, ws, "_", last)).Texts);
        Assert.Equal(["snake_case name"], (await SearchAsync(ada, ws, "e_c", last)).Texts);
        Assert.Equal(["it's fine"], (await SearchAsync(ada, ws, "'", last)).Texts);
        Assert.Equal(["it's fine"], (await SearchAsync(ada, ws, "it's", last)).Texts);
        Assert.Equal([@"C:\temp\x"], (await SearchAsync(ada, ws, @"\temp\", last)).Texts);
        Assert.Equal([@"C:\temp\x"], (await SearchAsync(ada, ws, @"\", last)).Texts);
        Assert.Empty((await SearchAsync(ada, ws, "%%", last)).Results);
        Assert.Empty((await SearchAsync(ada, ws, "'; drop table rm_search.messages; --", last)).Results);
        Assert.Empty((await SearchAsync(ada, ws, "\"unclosed", last)).Results);
        Assert.Empty((await SearchAsync(ada, ws, "a & | ! ( ) : *", last)).Results);
        Assert.Equal(8, (await SearchAsync(ada, ws, "e", last)).Results.Count); // all but "plain words"
        // Only stop words: no full-text match, so the substring search answers.
        Assert.Equal(["last one"], (await SearchAsync(ada, ws, "one", last)).Texts);
    }

    [Fact]
    public async Task A_word_inside_markup_is_found_and_the_markup_itself_is_not()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var bold = await PostAsync(ada, ch, "the **quarterly** numbers are _in_");
        await PostAsync(ada, ch, "run `x ** 2` in the shell");
        var link = await PostAsync(ada, ch, "read [the report](https://example.com/q3-report) first");

        var word = await SearchAsync(ada, ws, "quarterly", link.Position);

        Assert.Equal(["the quarterly numbers are in"], word.Texts);
        Assert.Equal(bold.Seq, word.Results[0].Seq);
        Assert.Equal("the <mark>quarterly</mark> numbers are in", word.Results[0].Highlight);
        // "**" is markup in the first message and code in the second: only the code's literal "**" matches.
        Assert.Equal(["run x ** 2 in the shell"], (await SearchAsync(ada, ws, "**", link.Position)).Texts);
        Assert.Empty((await SearchAsync(ada, ws, "**quarterly**", link.Position)).Results);
        // A link keeps its text and its URL.
        Assert.Equal(["read the report (https://example.com/q3-report) first"], (await SearchAsync(ada, ws, "q3-report", link.Position)).Texts);
    }
}
