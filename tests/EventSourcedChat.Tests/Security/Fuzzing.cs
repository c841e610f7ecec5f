using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// Generated bad input against every REST endpoint and hub method: never a 5xx (but 503 <c>stale</c> where a query
/// asked to wait for a position the log will not reach), every error is problem+json whose code is documented and
/// matches its status, ids of another workspace are 404, and a rejected request appends nothing. Hub methods answer
/// an error or close the connection cleanly, and the server keeps serving. Each test prints endpoint × category counts.
/// </summary>
public sealed class Fuzzing(PostgresFixture db, ITestOutputHelper output) : SecurityTest(db)
{
    private static readonly Dictionary<string, int> CodeStatus = new()
    {
        [ErrorCodes.InvalidRequest] = 400, [ErrorCodes.MessageTooLong] = 400, [ErrorCodes.Unauthenticated] = 401,
        [ErrorCodes.Forbidden] = 403, [ErrorCodes.NotInChannel] = 403, [ErrorCodes.NotFound] = 404,
        [ErrorCodes.MethodNotAllowed] = 405, [ErrorCodes.Conflict] = 409, [ErrorCodes.NameTaken] = 409,
        [ErrorCodes.ChannelArchived] = 409, [ErrorCodes.PayloadTooLarge] = 413, [ErrorCodes.UnsupportedMediaType] = 415,
        [ErrorCodes.RateLimited] = 429, [ErrorCodes.Stale] = 503, [ErrorCodes.Unavailable] = 503,
    };

    static Fuzzing()
    {
        var documented = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!)
            .Where(c => c != ErrorCodes.Internal);
        Assert.Equal(documented.Order(), CodeStatus.Keys.Order()); // every code has its status here, "internal" none
    }

    private static readonly string[] Injections =
    [
        "'; drop table es_events; --", "\" or 1=1 --", "' union select token_id from ws_revoked_tokens --", "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>", "${jndi:ldap://x/a}", "%s%s%n", "../../../etc/passwd", "{{7*7}}", "$1", "; select pg_sleep(5)",
    ];

    private static readonly string[] ControlText =
    [
        "\0", "a\0b", "\u0007bell", "\u001b[31mred", "\uFEFFbom", "\u202Eevil", "\ud800", "x\udc00y", "\r\n\t", "👍🏽\u200D", "\u0085\u2028",
    ];

    private static readonly string[] HugeText = [new string('a', 500_000), new string('é', 300_000)];

    private static readonly string[] NumberLiterals =
    [
        "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e308", "1e309", "-1e308", "1.5",
        "\"NaN\"", "NaN", "Infinity", "\"1\"", "1e3", "-0", "00", "0x10",
    ];

    private static readonly string[] BadIds =
    [
        "0123456789abcdef0123456789abcdef", "x", "..", "%2e%2e", "' or 1=1 --", "%27%3B%20drop%20table", "ABCDEF0123456789ABCDEF0123456789",
        new string('f', 1000), "%F0%9F%91%8D", "%C3%28", "%FF", "-1", "null", "%3Cscript%3E",
    ];

    private static readonly string[] BadSeqs = ["-1", "0", "9223372036854775807", "99999999999999999999", "abc", "1e3", "1.5", "NaN", "%20"];

    private static readonly string[] BadEmoji = ["%20", "a%20b", "%01", "%7F", "%E2%80%A8", new string('x', 300), "%2F", "%25", "%C3%28", "%ED%A0%80", "%3Cscript%3E"];

    private static readonly string[] QueryValues =
    [
        "-1", "0", "9223372036854775807", "9223372036854775808", "1e309", "NaN", "1.5", "abc", "", "%00", "%C3%28", "%FF",
        "%27%20or%201%3D1%20--", "%3Cscript%3E", new string('9', 5000), "1&limit=2",
    ];

    /// <summary>Cases and failures per endpoint and category, printed as the report.</summary>
    private sealed class Tally
    {
        private readonly SortedDictionary<string, SortedDictionary<string, (int Cases, int Failures)>> _counts = new(StringComparer.Ordinal);

        public List<string> Failures { get; } = [];
        public int Cases { get; private set; }

        public void Add(string endpoint, string category, string label, string? failure)
        {
            Cases++;
            if (!_counts.TryGetValue(endpoint, out var row))
            {
                _counts[endpoint] = row = new(StringComparer.Ordinal);
            }
            var (cases, failures) = row.GetValueOrDefault(category);
            row[category] = (cases + 1, failures + (failure is null ? 0 : 1));
            if (failure is not null)
            {
                Failures.Add($"{endpoint} [{category}: {label}]: {failure}");
            }
        }

        public void Report(ITestOutputHelper output, string title)
        {
            output.WriteLine($"{title}: {Cases} cases, {Failures.Count} failures");
            output.WriteLine("| endpoint | cases | failures | categories (cases) |");
            output.WriteLine("|---|---|---|---|");
            foreach (var (endpoint, row) in _counts)
            {
                output.WriteLine($"| `{endpoint}` | {row.Values.Sum(v => v.Cases)} | {row.Values.Sum(v => v.Failures)} | " +
                                 string.Join(", ", row.Select(c => $"{c.Key} {c.Value.Cases}")) + " |");
            }
            var categories = _counts.Values.SelectMany(r => r).GroupBy(c => c.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
            output.WriteLine("| category | cases | failures |");
            output.WriteLine("|---|---|---|");
            foreach (var g in categories)
            {
                output.WriteLine($"| {g.Key} | {g.Sum(c => c.Value.Cases)} | {g.Sum(c => c.Value.Failures)} |");
            }
        }

        public void AssertNone() => Assert.True(Failures.Count == 0, $"{Failures.Count} of {Cases} fuzz cases failed:\n" + string.Join('\n', Failures.Take(80)));
    }

    private enum Kind { Text, Number, Flag, Ids }

    /// <summary>A command endpoint: who calls it, its valid path and bad ones, the fields of its body (none: no body).</summary>
    private sealed record Command(string Key, string Method, TestUser Caller, string Path, (string Label, string Path, bool Foreign)[] BadPaths,
        (string Name, Kind Kind)[] Fields, Func<JsonObject> Valid);

    private (string, string, bool)[] ChannelPaths(string suffix, string valid) =>
    [
        .. BadIds.Select(b => ($"channel {Cut(b)}", $"/v1/channels/{b}{suffix}", false)),
        ("another workspace's channel", $"/v1/channels/{_foreignChannel}{suffix}", true),
        ("another workspace's private channel", $"/v1/channels/{_foreignPrivate}{suffix}", true),
        ("the same path, upper case", valid.ToUpperInvariant(), false),
    ];

    private string _foreignChannel = "";
    private string _foreignPrivate = "";

    private async Task ForeignChannelsAsync()
    {
        _foreignChannel = (await World.Other.Ok("POST", $"/v1/workspaces/{World.OtherWorkspaceId}/channels",
            new { name = $"f{Guid.NewGuid():N}"[..20] }, HttpStatusCode.Created)).GetProperty("channelId").GetString()!;
        _foreignPrivate = (await World.Other.Ok("POST", $"/v1/workspaces/{World.OtherWorkspaceId}/channels",
            new { name = $"f{Guid.NewGuid():N}"[..20], isPrivate = true }, HttpStatusCode.Created)).GetProperty("channelId").GetString()!;
        await World.Other.Ok("POST", $"/v1/channels/{_foreignPrivate}/messages", new { text = "foreign secret" }, HttpStatusCode.Created);
    }

    private async Task<Command[]> CommandsAsync()
    {
        var w = World;
        var s = await w.SceneAsync(isPrivate: false);
        var ch = s.ChannelId;
        var seq = s.Seq;
        (string, string, bool)[] Channel(string suffix) => ChannelPaths(suffix, $"/v1/channels/{ch}{suffix}");
        (string, string, bool)[] Message(string suffix) =>
        [
            .. ChannelPaths($"/messages/{seq}{suffix}", $"/v1/channels/{ch}/messages/{seq}{suffix}"),
            .. BadSeqs.Select(q => ($"seq {q}", $"/v1/channels/{ch}/messages/{q}{suffix}", false)),
        ];
        (string, string, bool)[] Emoji(string prefix) => [.. BadEmoji.Select(e => ($"emoji {Cut(e)}", $"{prefix}/reactions/{e}", false))];
        (string, string, bool)[] Workspace(string suffix) =>
        [
            .. BadIds.Select(b => ($"workspace {Cut(b)}", $"/v1/workspaces/{b}{suffix}", false)),
            ("another workspace", $"/v1/workspaces/{w.OtherWorkspaceId}{suffix}", true),
        ];
        return
        [
            new("POST /v1/auth/register", "POST", w.Spare, "/v1/auth/register", [], [("email", Kind.Text), ("password", Kind.Text), ("displayName", Kind.Text)],
                () => new JsonObject { ["email"] = $"f-{Guid.NewGuid():N}@example.test", ["password"] = SecurityWorld.Password, ["displayName"] = "fuzz" }),
            new("POST /v1/auth/login", "POST", w.Spare, "/v1/auth/login", [], [("email", Kind.Text), ("password", Kind.Text)],
                () => new JsonObject { ["email"] = w.Spare.Email, ["password"] = SecurityWorld.Password }),
            new("POST /v1/workspaces", "POST", w.Spare, "/v1/workspaces", [], [("name", Kind.Text)], () => new JsonObject { ["name"] = "fuzz" }),
            new("POST /v1/workspaces/{ws}/members", "POST", w.Admin, $"/v1/workspaces/{w.WorkspaceId}/members", Workspace("/members"),
                [("userId", Kind.Text), ("role", Kind.Text)], () => new JsonObject { ["userId"] = w.Spare.UserId, ["role"] = "member" }),
            new("POST /v1/workspaces/{ws}/channels", "POST", w.Creator, $"/v1/workspaces/{w.WorkspaceId}/channels", Workspace("/channels"),
                [("name", Kind.Text), ("isPrivate", Kind.Flag), ("topic", Kind.Text)],
                () => new JsonObject { ["name"] = $"c{Guid.NewGuid():N}"[..20], ["isPrivate"] = false, ["topic"] = "t" }),
            new("POST /v1/workspaces/{ws}/dms", "POST", w.Creator, $"/v1/workspaces/{w.WorkspaceId}/dms", Workspace("/dms"),
                [("userIds", Kind.Ids)], () => new JsonObject { ["userIds"] = new JsonArray(w.Spare.UserId) }),
            new("PATCH /v1/channels/{ch}", "PATCH", w.Creator, $"/v1/channels/{ch}", Channel(""), [("name", Kind.Text), ("topic", Kind.Text)],
                () => new JsonObject { ["topic"] = "fuzzed" }),
            new("POST /v1/channels/{ch}/members", "POST", w.Creator, $"/v1/channels/{ch}/members", Channel("/members"), [("userId", Kind.Text)],
                () => new JsonObject { ["userId"] = w.Spare.UserId }),
            new("POST /v1/channels/{ch}/messages", "POST", w.Member, $"/v1/channels/{ch}/messages", Channel("/messages"),
                [("text", Kind.Text), ("clientMsgId", Kind.Text), ("threadRootSeq", Kind.Number)],
                () => new JsonObject { ["text"] = "hi", ["clientMsgId"] = Guid.NewGuid().ToString(), ["threadRootSeq"] = seq }),
            new("PATCH /v1/channels/{ch}/messages/{seq}", "PATCH", w.Member, $"/v1/channels/{ch}/messages/{seq}", Message(""), [("text", Kind.Text)],
                () => new JsonObject { ["text"] = "edited" }),
            new("PUT /v1/channels/{ch}/messages/{seq}/reactions/{emoji}", "PUT", w.Member, $"/v1/channels/{ch}/messages/{seq}/reactions/thumbsup",
                [.. Message("/reactions/thumbsup"), .. Emoji($"/v1/channels/{ch}/messages/{seq}")], [], () => []),
            new("DELETE /v1/channels/{ch}/messages/{seq}/reactions/{emoji}", "DELETE", w.Member, $"/v1/channels/{ch}/messages/{seq}/reactions/thumbsup",
                [.. Message("/reactions/thumbsup"), .. Emoji($"/v1/channels/{ch}/messages/{seq}")], [], () => []),
            new("POST /v1/channels/{ch}/read", "POST", w.Member, $"/v1/channels/{ch}/read", Channel("/read"), [("seq", Kind.Number)],
                () => new JsonObject { ["seq"] = seq }),
            new("POST /v1/channels/{ch}/legal-hold", "POST", w.Admin, $"/v1/channels/{ch}/legal-hold", Channel("/legal-hold"), [("reason", Kind.Text)],
                () => new JsonObject { ["reason"] = "fuzz" }),
            new("DELETE /v1/channels/{ch}/legal-hold", "DELETE", w.Admin, $"/v1/channels/{ch}/legal-hold", Channel("/legal-hold"), [], () => []),
            new("POST /v1/channels/{ch}/join", "POST", w.NonMember, $"/v1/channels/{ch}/join", Channel("/join"), [], () => []),
            new("POST /v1/channels/{ch}/unarchive", "POST", w.Creator, $"/v1/channels/{ch}/unarchive", Channel("/unarchive"), [], () => []),
            new("DELETE /v1/channels/{ch}/members/{userId}", "DELETE", w.Creator, $"/v1/channels/{ch}/members/{w.Member.UserId}",
                [.. Channel($"/members/{w.Member.UserId}"), .. BadIds.Select(b => ($"user {Cut(b)}", $"/v1/channels/{ch}/members/{b}", false)),
                 ("another workspace's user", $"/v1/channels/{ch}/members/{w.Other.UserId}", true)], [], () => []),
            // Last, as they end the scene: deleting the message, leaving, archiving.
            new("DELETE /v1/channels/{ch}/messages/{seq}", "DELETE", w.Member, $"/v1/channels/{ch}/messages/{seq}", Message(""), [], () => []),
            new("POST /v1/channels/{ch}/leave", "POST", w.NonMember, $"/v1/channels/{ch}/leave", Channel("/leave"), [], () => []),
            new("POST /v1/channels/{ch}/archive", "POST", w.Creator, $"/v1/channels/{ch}/archive", Channel("/archive"), [], () => []),
        ];
    }

    /// <summary>Bodies by category: (category, label, bytes, content type).</summary>
    private static IEnumerable<(string Category, string Label, byte[] Body, string ContentType)> Bodies(Command e)
    {
        (string, string, byte[], string) Json(string category, string label, string json) => (category, label, Encoding.UTF8.GetBytes(json), "application/json");
        string With(string field, string literal)
        {
            var o = e.Valid();
            o[field] = JsonNode.Parse("\"__X__\"");
            return o.ToJsonString().Replace("\"__X__\"", literal, StringComparison.Ordinal);
        }
        foreach (var raw in new[] { "", "{", "}", "{\"a\":", "not json", "[]", "null", "\"s\"", "123", "true", "{'a':1}", "{\"a\":1,}", "{\"a\" 1}", "\u0000", "{}{}" })
        {
            yield return Json("malformed JSON", raw, raw);
        }
        yield return Json("huge or deep", "deep array", new string('[', 10_000) + new string(']', 10_000));
        yield return Json("huge or deep", "deep object", string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000));
        yield return Json("huge or deep", "2 MB field", $"{{\"x\":\"{new string('a', 2_000_000)}\"}}");
        yield return Json("huge or deep", "100k fields", "{" + string.Join(',', Enumerable.Range(0, 100_000).Select(i => $"\"f{i}\":1")) + "}");
        yield return Json("missing fields", "all", "{}");
        var extra = e.Valid();
        extra["extra"] = 1;
        extra["__proto__"] = new JsonObject { ["admin"] = true };
        extra["role"] ??= "admin";
        yield return Json("extra fields", "extra, __proto__, role", extra.ToJsonString());
        var duplicate = e.Valid().ToJsonString();
        yield return Json("extra fields", "a field twice", duplicate.Insert(1, duplicate[1..^1] + ","));
        yield return ("content type", "text/plain", Encoding.UTF8.GetBytes(e.Valid().ToJsonString()), "text/plain");
        yield return ("content type", "form", "a=1"u8.ToArray(), "application/x-www-form-urlencoded");
        yield return ("content type", "json, utf-16", Encoding.Unicode.GetBytes(e.Valid().ToJsonString()), "application/json; charset=utf-16");
        foreach (var (name, kind) in e.Fields)
        {
            var without = e.Valid();
            without.Remove(name);
            yield return Json("missing fields", name, without.ToJsonString());
            foreach (var literal in new[] { "null", "[]", "[\"a\"]", "{}", "{\"$gt\":\"\"}" }.Concat(kind switch
            {
                Kind.Text => ["1", "-1.5e308", "true"],
                Kind.Flag => ["1", "\"true\"", "\"yes\""],
                Kind.Ids => ["\"a\"", "1", "[1]", "[null]", "[[]]", JsonSerializer.Serialize(Enumerable.Range(0, 10_000).Select(i => $"u{i}"))],
                _ => ["\"7\"", "true"],
            }))
            {
                yield return Json("wrong types", $"{name}={Cut(literal)}", With(name, literal));
            }
            yield return Json("huge or deep", $"{name} deep", With(name, new string('[', 10_000) + new string(']', 10_000)));
            foreach (var literal in kind == Kind.Number ? NumberLiterals : NumberLiterals.Take(6))
            {
                yield return Json("numeric edges", $"{name}={literal}", With(name, literal));
            }
            if (kind is Kind.Text or Kind.Ids)
            {
                Func<string, string> value = kind == Kind.Ids ? v => JsonSerializer.Serialize(new[] { v }) : v => JsonSerializer.Serialize(v);
                foreach (var s in Injections)
                {
                    yield return Json("injection", $"{name}={Cut(s)}", With(name, value(s)));
                }
                foreach (var s in ControlText)
                {
                    yield return Json("control chars and NUL", $"{name}={Cut(JsonSerializer.Serialize(s))}", With(name, value(s)));
                }
                foreach (var s in HugeText)
                {
                    yield return Json("huge or deep", $"{name} of {s.Length} chars", With(name, value(s)));
                }
            }
            var body = Encoding.UTF8.GetBytes(With(name, "\"a__B__b\"")).ToList();
            var at = Encoding.UTF8.GetBytes(With(name, "\"a__B__b\"")).AsSpan().IndexOf("__B__"u8);
            body.RemoveRange(at, 5);
            body.InsertRange(at, [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0xC0, 0xAF]);
            yield return ("invalid UTF-8", name, [.. body], "application/json");
        }
    }

    [Fact]
    public async Task Every_command_endpoint_survives_generated_bad_input()
    {
        await ForeignChannelsAsync();
        var tally = new Tally();
        foreach (var e in await CommandsAsync())
        {
            var client = e.Key.StartsWith("POST /v1/auth/", StringComparison.Ordinal) ? World.Host.CreateClient() : e.Caller.Client;
            var valid = e.Fields.Length > 0 ? Encoding.UTF8.GetBytes(e.Valid().ToJsonString()) : null;
            foreach (var (label, path, foreign) in e.BadPaths)
            {
                tally.Add(e.Key, foreign ? "other workspace ids" : "bad path ids", label,
                    await SendAndCheckAsync(client, e.Method, path, valid, "application/json", foreign ? 404 : null));
            }
            if (e.Fields.Length == 0)
            {
                continue;
            }
            foreach (var (category, label, body, contentType) in Bodies(e))
            {
                tally.Add(e.Key, category, label, await SendAndCheckAsync(client, e.Method, e.Path, body, contentType, null));
            }
        }
        tally.Report(output, "Command endpoints");
        tally.AssertNone();
    }

    /// <summary>Sends one case and judges it; null when it passed.</summary>
    private async Task<string?> SendAndCheckAsync(HttpClient client, string method, string path, byte[]? body, string? contentType, int? expected,
        Dictionary<string, string>? headers = null)
    {
        var before = await LogAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType!);
        }
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException)
        {
            return $"the request failed: {ex.Message}";
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (expected is { } exact && status != exact)
            {
                return $"expected {exact}, got {status} {Cut(text)}";
            }
            if (status < 400)
            {
                return status >= 300 ? $"{status}" : null;
            }
            var (code, failure) = ProblemCode(response, text);
            if (failure is not null)
            {
                return $"{status}: {failure}";
            }
            if (!CodeStatus.TryGetValue(code!, out var codeStatus) || codeStatus != status)
            {
                return $"{status} with code {code}, which is not documented for that status";
            }
            if (status >= 500 && code != ErrorCodes.Stale)
            {
                return $"{status} {code}";
            }
            var after = await LogAsync();
            return after == before ? null : $"{status} {code} but the log moved from {before} to {after}";
        }
    }

    [Fact]
    public async Task Every_query_endpoint_survives_generated_bad_paths_and_query_strings()
    {
        await ForeignChannelsAsync();
        var w = World;
        var s = w.Private;
        var ch = s.ChannelId;
        var tally = new Tally();
        // (key, caller, valid path without query, bad paths, query parameters)
        var queries = new (string Key, TestUser Caller, string Path, (string Label, string Path, bool Foreign)[] BadPaths, string[] Parameters)[]
        {
            ("GET /v1/workspaces", w.Member, "/v1/workspaces", [], []),
            ("GET /v1/connect", w.Member, "/v1/connect", [], []),
            ("GET /v1/workspaces/{ws}/channels", w.Member, $"/v1/workspaces/{w.WorkspaceId}/channels",
                [.. BadIds.Select(b => ($"workspace {Cut(b)}", $"/v1/workspaces/{b}/channels", false)),
                 ("another workspace", $"/v1/workspaces/{w.OtherWorkspaceId}/channels", true)], []),
            ("GET /v1/channels/{ch}", w.Member, $"/v1/channels/{ch}", ChannelPaths("", $"/v1/channels/{ch}"), []),
            ("GET /v1/channels/{ch}/members", w.Member, $"/v1/channels/{ch}/members", ChannelPaths("/members", $"/v1/channels/{ch}/members"), []),
            ("GET /v1/channels/{ch}/messages", w.Member, $"/v1/channels/{ch}/messages", ChannelPaths("/messages", $"/v1/channels/{ch}/messages"),
                ["before", "after", "limit"]),
            ("GET /v1/channels/{ch}/messages/{seq}", w.Member, $"/v1/channels/{ch}/messages/{s.Seq}",
                [.. ChannelPaths($"/messages/{s.Seq}", $"/v1/channels/{ch}/messages/{s.Seq}"),
                 .. BadSeqs.Select(q => ($"seq {q}", $"/v1/channels/{ch}/messages/{q}", false))], []),
            ("GET /v1/channels/{ch}/messages/{seq}/thread", w.Member, $"/v1/channels/{ch}/messages/{s.Seq}/thread",
                [.. ChannelPaths($"/messages/{s.Seq}/thread", $"/v1/channels/{ch}/messages/{s.Seq}/thread"),
                 .. BadSeqs.Select(q => ($"seq {q}", $"/v1/channels/{ch}/messages/{q}/thread", false))], ["after", "limit"]),
            ("GET /v1/users/{id}", w.Member, $"/v1/users/{w.Creator.UserId}",
                [.. BadIds.Select(b => ($"user {Cut(b)}", $"/v1/users/{b}", false)), ("another workspace's user", $"/v1/users/{w.Other.UserId}", true)], []),
            ("GET /v1/search", w.Member, $"/v1/search?workspaceId={w.WorkspaceId}&q=secret",
                [.. BadIds.Select(b => ($"workspace {Cut(b)}", $"/v1/search?workspaceId={b}&q=secret", false)),
                 ("another workspace", $"/v1/search?workspaceId={w.OtherWorkspaceId}&q=secret", true),
                 ("another workspace's channel", $"/v1/search?workspaceId={w.WorkspaceId}&q=secret&channelId={_foreignPrivate}", true),
                 ("no workspace", "/v1/search?q=secret", false)],
                ["q", "channelId", "fromUserId", "before", "after", "limit"]),
            ("GET /v1/audit/channels/{ch}/events", w.Auditor, $"/v1/audit/channels/{ch}/events",
                ChannelPaths("/events", $"/v1/audit/channels/{ch}/events").Select(p => (p.Item1, p.Item2.Replace("/v1/channels/", "/v1/audit/channels/", StringComparison.Ordinal), p.Item3)).ToArray(),
                ["fromSeq", "limit"]),
            ("GET /v1/audit/channels/{ch}/verify", w.Auditor, $"/v1/audit/channels/{ch}/verify",
                ChannelPaths("/verify", $"/v1/audit/channels/{ch}/verify").Select(p => (p.Item1, p.Item2.Replace("/v1/channels/", "/v1/audit/channels/", StringComparison.Ordinal), p.Item3)).ToArray(), []),
            ("GET /v1/audit/channels/{ch}/as-of", w.Auditor, $"/v1/audit/channels/{ch}/as-of?at=2020-01-01T00:00:00Z",
                ChannelPaths("/as-of?at=2020-01-01T00:00:00Z", "").Where(p => p.Item1 != "the same path, upper case")
                    .Select(p => (p.Item1, p.Item2.Replace("/v1/channels/", "/v1/audit/channels/", StringComparison.Ordinal), p.Item3)).ToArray(), ["at"]),
            ("GET /v1/admin/projections", w.Member, "/v1/admin/projections", [], []),
        };
        foreach (var (key, caller, path, badPaths, parameters) in queries)
        {
            foreach (var (label, bad, foreign) in badPaths)
            {
                tally.Add(key, foreign ? "other workspace ids" : "bad path ids", label,
                    await SendAndCheckAsync(caller.Client, "GET", bad, null, null, foreign ? 404 : null));
            }
            var join = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";
            foreach (var parameter in parameters)
            {
                foreach (var value in QueryValues.Concat(Injections.Select(Uri.EscapeDataString)).Append("2020-13-45T99:00:00Z").Append("2020-01-01"))
                {
                    var category = value.Contains('%', StringComparison.Ordinal) || value.Length == 0 ? "query strings: encoding, injection" : "query strings: values";
                    tally.Add(key, category, $"{parameter}={Cut(value)}", await SendAndCheckAsync(caller.Client, "GET", $"{path}{join}{parameter}={value}", null, null, null));
                }
                tally.Add(key, "query strings: values", $"{parameter} twice", await SendAndCheckAsync(caller.Client, "GET", $"{path}{join}{parameter}=1&{parameter}=2", null, null, null));
            }
            // minPosition and X-Min-Position: values that are no position answer 400 at once.
            foreach (var value in new[] { "-1", "abc", "1e309", "NaN", "9223372036854775808", "%00", "1.5", new string('9', 400) })
            {
                tally.Add(key, "minPosition", $"?minPosition={Cut(value)}", await SendAndCheckAsync(caller.Client, "GET", $"{path}{join}minPosition={value}", null, null, null));
                tally.Add(key, "minPosition", $"X-Min-Position: {Cut(value)}", await SendAndCheckAsync(caller.Client, "GET", path, null, null, null,
                    new() { ["X-Min-Position"] = Uri.UnescapeDataString(value).Replace("\0", "\\0", StringComparison.Ordinal) }));
            }
        }
        // A position beyond the log: 503 stale after the bounded wait (checked once: it takes the whole wait).
        tally.Add("GET /v1/channels/{ch}/messages", "minPosition", "beyond the log",
            await SendAndCheckAsync(w.Member.Client, "GET", $"/v1/channels/{ch}/messages?minPosition=9223372036854775807", null, null, 503));
        tally.Report(output, "Query endpoints");
        tally.AssertNone();
    }

    [Fact]
    public async Task Admin_endpoints_survive_generated_bad_input_from_an_instance_administrator()
    {
        await using var host = new ChatHost(Db, new() { ["Roles"] = "api", ["Admins"] = World.Admin.UserId });
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecurityWorld.TokenOfUser(World.Admin));
        var tally = new Tally();
        tally.Add("GET /v1/admin/projections", "valid", "status", await SendAndCheckAsync(client, "GET", "/v1/admin/projections", null, null, 200));
        foreach (var name in BadIds.Concat(Injections.Select(Uri.EscapeDataString)).Concat(["HISTORY", "history%01", "history.v2", new string('h', 5000)]))
        {
            tally.Add("POST /v1/admin/projections/{name}/rebuild", "bad path ids", Cut(name),
                await SendAndCheckAsync(client, "POST", $"/v1/admin/projections/{name}/rebuild", null, null, null));
            tally.Add("POST /v1/admin/projections/{name}/restart", "bad path ids", Cut(name),
                await SendAndCheckAsync(client, "POST", $"/v1/admin/projections/{name}/restart", null, null, null));
        }
        tally.Report(output, "Admin endpoints");
        tally.AssertNone();
    }

    // ---------------------------------------------------------------- hub

    /// <summary>A raw SignalR JSON-protocol connection that can send anything, including bytes that are not UTF-8.</summary>
    /// <remarks>
    /// Raw frames on purpose, not the .NET SignalR client the other tests use (Infrastructure/HubClient.cs): the fuzzer
    /// must send bad frames (broken JSON, unknown message types, missing record separators, invalid UTF-8), which
    /// HubConnection can never produce, and see exactly how the server answers or closes.
    /// </remarks>
    private sealed class RawHub : IAsyncDisposable
    {
        private readonly WebSocket _socket;
        private readonly StringBuilder _buffer = new();
        private readonly Queue<JsonElement> _records = new();

        private RawHub(WebSocket socket) => _socket = socket;

        /// <summary>False once the server ended the connection (a close message or frame) or the socket failed.</summary>
        public bool Open => !_closed && _socket.State == WebSocketState.Open;

        private bool _closed;

        public static async Task<RawHub> ConnectAsync(ChatHost host, TestUser user)
        {
            var socket = await host.Server.CreateWebSocketClient().ConnectAsync(
                new Uri($"ws://localhost/v1/gateway?access_token={Uri.EscapeDataString(SecurityWorld.TokenOfUser(user))}"), CancellationToken.None);
            var hub = new RawHub(socket);
            await hub.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"));
            var handshake = await hub.NextAsync(TimeSpan.FromSeconds(10));
            if (handshake is not { } h || h.ValueKind != JsonValueKind.Object || h.TryGetProperty("error", out _))
            {
                throw new InvalidOperationException($"handshake failed: {handshake}");
            }
            return hub;
        }

        public Task SendAsync(byte[] frame) => _socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);

        /// <summary>The completion of <paramref name="invocationId"/>, or null when the server closed the connection.</summary>
        public async Task<JsonElement?> CompletionAsync(string invocationId, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"no completion of {invocationId}");
                }
                if (await NextAsync(left) is not { } record)
                {
                    _closed = true;
                    return null;
                }
                var type = record.TryGetProperty("type", out var t) ? t.GetInt32() : 0;
                if (type == 7)
                {
                    _closed = true;
                    return null; // close, possibly with an error: a clean end of the connection
                }
                if (type == 3 && record.GetProperty("invocationId").GetString() == invocationId)
                {
                    return record;
                }
            }
        }

        private async Task<JsonElement?> NextAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            var chunk = new byte[64 * 1024];
            using var message = new MemoryStream();
            while (_records.Count == 0)
            {
                WebSocketReceiveResult result;
                try
                {
                    result = await _socket.ReceiveAsync(chunk, cts.Token);
                }
                catch (Exception e) when (e is WebSocketException or IOException)
                {
                    return null;
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    throw new TimeoutException($"nothing received within {timeout.TotalSeconds:0.#} s");
                }
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }
                message.Write(chunk, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                _buffer.Append(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
                message.SetLength(0);
                var text = _buffer.ToString();
                var last = text.LastIndexOf('\u001e');
                if (last < 0)
                {
                    continue;
                }
                _buffer.Clear().Append(text[(last + 1)..]);
                foreach (var record in text[..last].Split('\u001e'))
                {
                    _records.Enqueue(JsonDocument.Parse(record).RootElement.Clone());
                }
            }
            return _records.Dequeue();
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
            }
            _socket.Dispose();
        }
    }

    private static byte[] Invocation(string id, string target, string arguments) =>
        Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"{target}\",\"arguments\":{arguments}}}\u001e");

    [Fact]
    public async Task Every_hub_method_survives_generated_bad_arguments_and_frames()
    {
        await ForeignChannelsAsync();
        var w = World;
        string J(object? v) => JsonSerializer.Serialize(v);
        var wrong = new[] { "null", "true", "{}", "[]", "\"abc\"", "1.5", "1e309", "\"NaN\"", "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809" };
        var text = Injections.Concat(ControlText).Concat(HugeText.Take(1)).ToArray();
        var methods = new (string Method, string Valid, string[] Wrong, string[] Texts, string[] Foreign)[]
        {
            ("Resume", "[0]", wrong, [], []),
            ("Typing", $"[{J(w.Public.ChannelId)}]", wrong, [.. text.Select(t => $"[{J(t)}]")], [$"[{J(_foreignChannel)}]", $"[{J(_foreignPrivate)}]"]),
            ("SubscribePresence", $"[[{J(w.Creator.UserId)}]]", [.. wrong, "[[1]]", "[[null]]", "[[[]]]", $"[{J(Enumerable.Range(0, 501).Select(i => $"u{i}"))}]"],
                [.. text.Select(t => $"[[{J(t)}]]")], [$"[[{J(w.Other.UserId)}]]"]),
            ("SetPresence", "[\"active\"]", wrong, [.. text.Select(t => $"[{J(t)}]"), "[\"offline\"]", "[\"ACTIVE\"]"], []),
        };
        var tally = new Tally();
        await using var hubRef = new HubHolder(await RawHub.ConnectAsync(w.Host, w.Member));
        var n = 0;
        string Id() => (++n).ToString(CultureInfo.InvariantCulture);

        async Task CaseAsync(string method, string category, string label, byte[] frame, string? id, Func<JsonElement?, string?>? judge = null)
        {
            var before = await LogAsync();
            string? failure = null;
            try
            {
                await hubRef.Hub.SendAsync(frame);
                JsonElement? completion = null;
                if (id is not null)
                {
                    completion = await hubRef.Hub.CompletionAsync(id, TimeSpan.FromSeconds(15));
                }
                failure = judge?.Invoke(completion);
                // Then a valid call: the connection answers it, or it was closed and a new connection does (the server
                // lives and serves others); a connection that neither answers nor closes is a failure.
                var answer = hubRef.Hub.Open ? await ProbeAsync() : null;
                if (answer is null)
                {
                    await hubRef.Hub.DisposeAsync();
                    hubRef.Hub = await RawHub.ConnectAsync(w.Host, w.Member);
                    answer = await ProbeAsync();
                }
                if (answer is not { } a || a.TryGetProperty("error", out _))
                {
                    failure ??= $"a valid call afterwards got {answer?.ToString() ?? "a closed connection"}";
                }
            }
            catch (Exception e) when (e is TimeoutException or WebSocketException or InvalidOperationException or IOException)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
                await hubRef.Hub.DisposeAsync();
                hubRef.Hub = await RawHub.ConnectAsync(w.Host, w.Member);
            }
            var after = await LogAsync();
            if (failure is null && after != before)
            {
                failure = $"the log moved from {before} to {after}";
            }
            tally.Add(method, category, label, failure);
        }

        async Task<JsonElement?> ProbeAsync()
        {
            var probe = Id();
            try
            {
                await hubRef.Hub.SendAsync(Invocation(probe, "SetPresence", "[\"active\"]"));
                return await hubRef.Hub.CompletionAsync(probe, TimeSpan.FromSeconds(15));
            }
            catch (Exception e) when (e is WebSocketException or InvalidOperationException or IOException)
            {
                return null;
            }
        }

        static string? Refused(JsonElement? completion) =>
            completion is { } c && !c.TryGetProperty("error", out _) ? $"accepted: {Cut(c.ToString())}" : null;

        foreach (var (method, valid, wrongArgs, texts, foreign) in methods)
        {
            string id;
            foreach (var arg in wrongArgs)
            {
                id = Id();
                await CaseAsync(method, "wrong types and numeric edges", Cut(arg), Invocation(id, method, $"[{arg}]"), id);
            }
            id = Id();
            await CaseAsync(method, "missing and extra arguments", "none", Invocation(id, method, "[]"), id, Refused);
            id = Id();
            await CaseAsync(method, "missing and extra arguments", "one too many", Invocation(id, method, valid[..^1] + ",1]"), id, Refused);
            id = Id();
            await CaseAsync(method, "missing and extra arguments", "arguments not an array", Invocation(id, method, "{\"a\":1}"), id);
            foreach (var arg in texts)
            {
                id = Id();
                var category = arg.Length > 10_000 ? "huge or deep" : Injections.Any(i => arg.Contains(JsonSerializer.Serialize(i)[1..^1], StringComparison.Ordinal)) ? "injection" : "control chars and NUL";
                await CaseAsync(method, category, Cut(arg), Invocation(id, method, arg), id);
            }
            foreach (var arg in foreign)
            {
                id = Id();
                await CaseAsync(method, "other workspace ids", Cut(arg), Invocation(id, method, arg), id, c => method switch
                {
                    "Typing" => c is { } t && t.TryGetProperty("error", out var e) && e.GetString()!.Contains("not_found", StringComparison.Ordinal)
                        ? null : $"expected a not_found error, got {c?.ToString() ?? "a closed connection"}",
                    _ => c is { } ok && !ok.TryGetProperty("error", out _) ? null : $"expected a completion, got {c?.ToString() ?? "a closed connection"}",
                });
            }
            id = Id();
            await CaseAsync(method, "huge or deep", "deep arguments", Invocation(id, method, "[" + new string('[', 10_000) + new string(']', 10_000) + "]"), id);
            id = Id();
            var broken = Invocation(id, method, valid).ToList();
            broken.InsertRange(broken.IndexOf((byte)'['), [0xFF, 0xC3, 0x28]);
            await CaseAsync(method, "invalid UTF-8", "before the arguments", [.. broken], id);
        }
        // Frames that are not invocations of a method at all.
        var frames = new (string Label, string Category, byte[] Frame)[]
        {
            ("unknown method", "protocol", Invocation("u1", "DropAllTables", "[]")),
            ("method of the wrong case", "protocol", Invocation("u2", "resume", "[0]")),
            ("OnConnectedAsync", "protocol", Invocation("u3", "OnConnectedAsync", "[]")),
            ("not JSON", "protocol", Encoding.UTF8.GetBytes("not json\u001e")),
            ("no type", "protocol", Encoding.UTF8.GetBytes("{\"target\":\"Resume\",\"arguments\":[0]}\u001e")),
            ("type 99", "protocol", Encoding.UTF8.GetBytes("{\"type\":99}\u001e")),
            ("stream invocation", "protocol", Encoding.UTF8.GetBytes("{\"type\":4,\"invocationId\":\"s1\",\"target\":\"Resume\",\"arguments\":[0]}\u001e")),
            ("NUL frame", "control chars and NUL", Encoding.UTF8.GetBytes("\0\u001e")),
            ("invalid UTF-8 frame", "invalid UTF-8", [0xFF, 0xFE, 0xC3, 0x28, 0x1E]),
            ("1 MB frame", "huge or deep", Invocation("h1", "Typing", J(new string('a', 1_000_000)))),
            ("deep frame", "huge or deep", Encoding.UTF8.GetBytes(new string('[', 100_000) + new string(']', 100_000) + "\u001e")),
        };
        foreach (var (label, category, frame) in frames)
        {
            var id = label switch { "unknown method" => "u1", "method of the wrong case" => "u2", "OnConnectedAsync" => "u3", _ => null };
            await CaseAsync("(any frame)", category, label, frame, id, label == "method of the wrong case" ? null : id is null ? null : Refused);
        }
        tally.Report(output, "Hub methods");
        tally.AssertNone();
    }

    private sealed class HubHolder(RawHub hub) : IAsyncDisposable
    {
        public RawHub Hub { get; set; } = hub;

        public ValueTask DisposeAsync() => Hub.DisposeAsync();
    }
}
