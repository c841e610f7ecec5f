using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Generated bad bodies and paths against every command endpoint: never a 5xx, every error is problem+json with a
/// known code, and a rejected request appends nothing.
/// </summary>
public sealed class Fuzzing(PostgresFixture db, ITestOutputHelper output) : ApiTest(db)
{
    private static readonly HashSet<string> KnownCodes = typeof(ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToHashSet();

    private enum Kind { Text, Number, Flag }

    /// <summary>A command endpoint: its paths (valid, then bad ones) and the fields of its body (none: no body).</summary>
    private sealed record Endpoint(string Method, string[] Paths, (string Name, Kind Kind)[] Fields, Func<JsonObject> Valid);

    private static readonly string[] Injections =
    [
        "'; drop table es_events; --", "\" or 1=1 --", "<script>alert(1)</script>", "${jndi:ldap://x/a}", "%s%s%n",
        "../../../etc/passwd", "{{7*7}}", "\\u0000", "$1", "; select pg_sleep(5)",
    ];

    private static readonly string[] NastyText =
    [
        "\0", "a\0b", "\u0007bell", "\u001b[31mred", "\uFEFFbom", "\u202Eevil", "\ud800", "x\udc00y", "\r\n\t", "👍🏽\u200D",
        new string('a', 500_000), new string('é', 300_000),
    ];

    private static readonly string[] NumberLiterals =
    [
        "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e308", "-1e308", "1.5",
        "\"NaN\"", "NaN", "Infinity", "\"1\"", "1e3", "-0", "00", "0x10",
    ];

    private static readonly string[] BadChannelIds =
    [
        "0123456789abcdef0123456789abcdef", "x", "..", "%2e%2e", "' or 1=1 --", "%27%3B%20drop%20table", "ABCDEF0123456789ABCDEF0123456789",
        new string('f', 1000), "%F0%9F%91%8D", "-1", "null",
    ];

    private static readonly string[] BadSeqs = ["-1", "0", "9223372036854775807", "99999999999999999999", "abc", "1e3", "1.5", "NaN", "%20"];

    private static readonly string[] BadEmoji = ["%20", "a%20b", "%01", "%7F", "%E2%80%A8", new string('x', 300), "%2F", "%25", "%C3%28", "%ED%A0%80"];

    private async Task<Endpoint[]> EndpointsAsync(TestUser ada, TestUser bob)
    {
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var seq = (await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "target" }, HttpStatusCode.Created)).GetProperty("seq").GetInt64();
        string[] Channel(string suffix) => [$"/v1/channels/{ch}{suffix}", .. BadChannelIds.Select(b => $"/v1/channels/{b}{suffix}")];
        string[] Message(string suffix) => [.. Channel($"/messages/{seq}{suffix}"), .. BadSeqs.Select(s => $"/v1/channels/{ch}/messages/{s}{suffix}")];
        return
        [
            new("POST", ["/v1/auth/register"], [("email", Kind.Text), ("password", Kind.Text), ("displayName", Kind.Text)],
                () => new JsonObject { ["email"] = $"f-{Guid.NewGuid():N}@example.test", ["password"] = "correct horse battery", ["displayName"] = "fuzz" }),
            new("POST", ["/v1/auth/login"], [("email", Kind.Text), ("password", Kind.Text)],
                () => new JsonObject { ["email"] = ada.Email, ["password"] = "correct horse battery" }),
            new("POST", ["/v1/workspaces"], [("name", Kind.Text)], () => new JsonObject { ["name"] = "fuzz" }),
            new("POST", [$"/v1/workspaces/{ws}/members", .. BadChannelIds.Select(b => $"/v1/workspaces/{b}/members")],
                [("userId", Kind.Text), ("role", Kind.Text)], () => new JsonObject { ["userId"] = bob.UserId, ["role"] = "member" }),
            new("POST", [$"/v1/workspaces/{ws}/channels", .. BadChannelIds.Select(b => $"/v1/workspaces/{b}/channels")],
                [("name", Kind.Text), ("isPrivate", Kind.Flag), ("topic", Kind.Text)],
                () => new JsonObject { ["name"] = $"c{Guid.NewGuid():N}", ["isPrivate"] = false, ["topic"] = "t" }),
            new("POST", Channel("/messages"), [("text", Kind.Text), ("clientMsgId", Kind.Text), ("threadRootSeq", Kind.Number)],
                () => new JsonObject { ["text"] = "hi", ["clientMsgId"] = Guid.NewGuid().ToString(), ["threadRootSeq"] = seq }),
            new("PATCH", Message(""), [("text", Kind.Text)], () => new JsonObject { ["text"] = "edited" }),
            new("PUT", [.. Message("/reactions/thumbsup"), .. BadEmoji.Select(e => $"/v1/channels/{ch}/messages/{seq}/reactions/{e}")], [], () => []),
            new("DELETE", [.. Message("/reactions/thumbsup"), .. BadEmoji.Select(e => $"/v1/channels/{ch}/messages/{seq}/reactions/{e}")], [], () => []),
            new("POST", Channel("/read"), [("seq", Kind.Number)], () => new JsonObject { ["seq"] = seq }),
            // Last: deleting the target would turn the other endpoints' valid requests into 404s.
            new("DELETE", Message(""), [], () => []),
        ];
    }

    /// <summary>Raw bodies (JSON text, or bytes for invalid UTF-8) for an endpoint with body fields.</summary>
    private static IEnumerable<(string Label, byte[] Body, string ContentType)> Bodies(Endpoint e)
    {
        (string, byte[], string) Json(string label, string json) => (label, Encoding.UTF8.GetBytes(json), "application/json");
        string With(string field, string literal)
        {
            var o = e.Valid();
            o[field] = JsonNode.Parse("\"__X__\"");
            return o.ToJsonString().Replace("\"__X__\"", literal, StringComparison.Ordinal);
        }
        foreach (var raw in new[] { "", "{", "}", "{\"a\":", "not json", "[]", "null", "\"s\"", "123", "true", "{'a':1}", "{\"a\":1,}", "{\"a\" 1}", "\u0000" })
        {
            yield return Json($"malformed {raw}", raw);
        }
        yield return Json("deep array", new string('[', 10_000) + new string(']', 10_000));
        yield return Json("deep object", string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000));
        yield return Json("missing all", "{}");
        var extra = e.Valid();
        extra["extra"] = 1;
        extra["__proto__"] = new JsonObject { ["admin"] = true };
        yield return Json("extra fields", extra.ToJsonString());
        yield return Json("huge", $"{{\"x\":\"{new string('a', 2_000_000)}\"}}");
        yield return ("text/plain", Encoding.UTF8.GetBytes(e.Valid().ToJsonString()), "text/plain");
        yield return ("form", "a=1"u8.ToArray(), "application/x-www-form-urlencoded");
        foreach (var (name, kind) in e.Fields)
        {
            var without = e.Valid();
            without.Remove(name);
            yield return Json($"{name} missing", without.ToJsonString());
            var wrong = new List<string> { "null", "[]", "[\"a\"]", "{}", "{\"$gt\":\"\"}", new string('[', 10_000) + new string(']', 10_000) };
            wrong.AddRange(kind == Kind.Text ? ["1", "-1.5e308", "true"] : kind == Kind.Flag ? ["1", "\"true\"", "\"yes\""] : ["\"7\"", "true"]);
            if (kind == Kind.Number)
            {
                wrong.AddRange(NumberLiterals);
            }
            else
            {
                wrong.AddRange(NumberLiterals.Take(6));
                wrong.AddRange(Injections.Concat(NastyText).Select(s => JsonSerializer.Serialize(s)));
            }
            foreach (var literal in wrong)
            {
                yield return Json($"{name}={Cut(literal)}", With(name, literal));
            }
            var invalidUtf8 = Encoding.UTF8.GetBytes(With(name, "\"a__B__b\"")).ToList();
            var at = Encoding.UTF8.GetBytes(With(name, "\"a__B__b\"")).AsSpan().IndexOf("__B__"u8);
            invalidUtf8.RemoveRange(at, 5);
            invalidUtf8.InsertRange(at, [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0xC0, 0xAF]);
            yield return ($"{name} invalid UTF-8", [.. invalidUtf8], "application/json");
        }
    }

    private static string Cut(string s) => s.Length > 24 ? string.Concat(s.AsSpan(0, 24), "…") : s;

    [Fact]
    public async Task Every_command_endpoint_survives_generated_bad_input()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var failures = new List<string>();
        var sent = 0;
        foreach (var endpoint in await EndpointsAsync(ada, bob))
        {
            var client = endpoint.Paths[0].StartsWith("/v1/auth/", StringComparison.Ordinal) ? Anonymous() : ada.Client;
            var cases = new List<(string Label, string Path, byte[]? Body, string? ContentType)>();
            cases.AddRange(endpoint.Paths.Skip(1).Select(p => ($"path", p, (byte[]?)null, (string?)null)));
            if (endpoint.Fields.Length > 0)
            {
                cases.AddRange(endpoint.Paths.Skip(1).Select(p => ("path+valid body", p, (byte[]?)Encoding.UTF8.GetBytes(endpoint.Valid().ToJsonString()), (string?)"application/json")));
                cases.AddRange(Bodies(endpoint).Select(b => (b.Label, endpoint.Paths[0], (byte[]?)b.Body, (string?)b.ContentType)));
            }
            foreach (var (label, path, body, contentType) in cases)
            {
                sent++;
                var failure = await SendAndCheckAsync(client, endpoint.Method, path, body, contentType);
                if (failure is not null)
                {
                    failures.Add($"{endpoint.Method} {Cut(path)} [{label}]: {failure}");
                }
            }
        }
        output.WriteLine($"{sent} fuzz cases sent, {failures.Count} failures");
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(60)));
    }

    private async Task<string?> SendAndCheckAsync(HttpClient client, string method, string path, byte[]? body, string? contentType)
    {
        var before = await EventCountAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType!);
        }
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            return $"{status} {Cut(text)}";
        }
        if (status < 400)
        {
            return null;
        }
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"{status} with content type {response.Content.Headers.ContentType?.MediaType ?? "(none)"}";
        }
        var code = JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
        if (code is null || !KnownCodes.Contains(code))
        {
            return $"{status} with unknown code {code ?? "(none)"}";
        }
        var after = await EventCountAsync();
        return after == before ? null : $"{status} {code} but {after - before} events were appended";
    }

    [Fact]
    public async Task An_idempotent_send_is_stored_once_across_a_host_restart()
    {
        var settings = new Dictionary<string, string?> { ["RateLimits:PostsPerSecond"] = "1000", ["RateLimits:PostsBurst"] = "1000" };
        var send = new { text = "survives restarts", clientMsgId = "restart-1" };
        string ch, token;
        JsonElement first;
        // Everything on the first host, so that the token's signing key is the one it stored in the database.
        await using (var one = new ChatHost(Db, settings))
        {
            using var client = one.CreateClient();
            var registered = await client.PostAsJsonAsync("/v1/auth/register", new { email = "sam@example.test", password = "correct horse battery", displayName = "sam" });
            token = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var sam = new TestUser("", "sam@example.test", client);
            ch = await ChannelAsync(sam, await WorkspaceAsync(sam));
            first = await sam.Ok("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.Created);
        }
        await using var two = new ChatHost(Db, settings);
        using var again = two.CreateClient();
        again.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var retry = await new TestUser("", "sam@example.test", again).Ok("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.OK);

        Assert.Equal(first.GetProperty("seq").GetInt64(), retry.GetProperty("seq").GetInt64());
        Assert.Equal(first.GetProperty("position").GetInt64(), retry.GetProperty("position").GetInt64());
        Assert.Equal(first.GetProperty("createdAt").GetDateTimeOffset(), retry.GetProperty("createdAt").GetDateTimeOffset());
        await using var cmd = Db.DataSource.CreateCommand("select count(*) from es_events where stream_id = $1 and type = 'message.posted.v1'");
        cmd.Parameters.AddWithValue($"channel-{ch}");
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
    }
}
