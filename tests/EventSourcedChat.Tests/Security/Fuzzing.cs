using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Tests.Infrastructure;
using Xunit.Abstractions;
using static EventSourcedChat.Tests.Security.FuzzInputs;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// Generated bad input against every REST endpoint and hub method (the lists of <see cref="FuzzTargets"/>, which
/// <see cref="EndpointCoverage"/> checks against the app's route table): never a 5xx (but 503 <c>stale</c> where a
/// query asked to wait for a position the log will not reach), every error is problem+json whose code is documented
/// and matches its status, ids of another workspace are 404, and a rejected request appends nothing. An accepted
/// command has exactly its documented effect (<see cref="FuzzEffects"/>); an accepted query appends nothing (an audit
/// read: exactly its own record). The hub's methods and frames: <see cref="FuzzingHub"/>. Each test prints endpoint ×
/// category counts.
/// </summary>
public sealed class Fuzzing(PostgresFixture db, ITestOutputHelper output) : SecurityTest(db)
{
    private string _foreignChannel = "";
    private string _foreignPrivate = "";
    private int _accepted;

    private async Task ForeignChannelsAsync() => (_foreignChannel, _foreignPrivate) = await World.ForeignChannelsAsync();

    /// <summary>Judges what an accepted (2xx) case appended; null when it is the documented effect.</summary>
    private delegate Task<string?> Accepted(int status, string answer, IReadOnlyList<LoggedEvent> appended);

    /// <summary>Bodies sent to endpoints that take none: ignored (and the documented effect happens) or refused cleanly.</summary>
    private static readonly (string Label, byte[] Body, string ContentType)[] UnexpectedBodies =
    [
        ("JSON object", "{\"userId\":\"x\",\"role\":\"admin\"}"u8.ToArray(), "application/json"),
        ("malformed JSON", "{"u8.ToArray(), "application/json"),
        ("text", "hello"u8.ToArray(), "text/plain"),
    ];

    [Fact]
    public async Task Every_command_endpoint_survives_generated_bad_input_and_an_accepted_one_has_exactly_its_effect()
    {
        await ForeignChannelsAsync();
        var scene = await World.SceneAsync(isPrivate: false);
        var effects = new FuzzEffects(World, scene);
        var tally = new FuzzTally();
        foreach (var e in FuzzTargets.Commands(World, scene, _foreignChannel, _foreignPrivate))
        {
            async Task<string?> SendAsync(string path, byte[]? body, string? contentType, int? expected, bool mustAccept = false)
            {
                if (mustAccept || e.FreshToken)
                {
                    await ForgetFailedLoginsAsync(); // the failed log-ins of earlier cases throttle this client address
                }
                var client = e.FreshToken ? World.ClientWith(await World.LoginAsync(e.Caller))
                    : e.Key.StartsWith("POST /v1/auth/", StringComparison.Ordinal) ? World.Host.CreateClient() : e.Caller.Client;
                return await SendAndCheckAsync(client, e.Method, path, body, contentType, expected, mustAccept: mustAccept,
                    accepted: (status, answer, appended) => effects.CheckAsync(e, client, path, body, contentType, status, answer, appended));
            }
            // First the documented request itself: accepted, with exactly its effect (later cases may find it done).
            tally.Add(e.Key, "valid", "the documented request",
                await SendAsync(e.Path, e.Fields.Length > 0 ? Encoding.UTF8.GetBytes(e.Valid().ToJsonString()) : null, "application/json", null, mustAccept: true));
            var valid = e.Fields.Length > 0 ? Encoding.UTF8.GetBytes(e.Valid().ToJsonString()) : null;
            foreach (var (label, path, foreign) in e.BadPaths)
            {
                tally.Add(e.Key, foreign ? "other workspace ids" : "bad path ids", label, await SendAsync(path, valid, "application/json", foreign ? 404 : null));
            }
            foreach (var (category, label, body, contentType) in e.Fields.Length == 0
                         ? UnexpectedBodies.Select(u => ("unexpected body", u.Label, u.Body, u.ContentType))
                         : Bodies(e))
            {
                tally.Add(e.Key, category, label, await SendAsync(e.Path, body, contentType, null));
            }
        }
        tally.Report(output, "Command endpoints");
        output.WriteLine($"accepted (2xx), each judged by its effect on the log: {_accepted}");
        tally.AssertNone();
    }

    /// <summary>Every event appended after <paramref name="head"/>, in log order.</summary>
    private async Task<List<LoggedEvent>> AppendedAfterAsync(long head)
    {
        await using var cmd = Db.DataSource.CreateCommand(
            "select stream_id, version, type, data::text, position from es_events where position > $1 order by position");
        cmd.Parameters.AddWithValue(head);
        await using var r = await cmd.ExecuteReaderAsync();
        var events = new List<LoggedEvent>();
        while (await r.ReadAsync())
        {
            events.Add(new(r.GetString(0), r.GetInt64(1), r.GetString(2), JsonDocument.Parse(r.GetString(3)).RootElement.Clone(), r.GetInt64(4)));
        }
        return events;
    }

    /// <summary>Sends one case and judges it; null when it passed.</summary>
    /// <remarks>
    /// A refused case must leave the log as it was; an accepted one is judged by <paramref name="accepted"/> on what it
    /// appended, or when there is none (queries, admin) must append nothing.
    /// </remarks>
    private async Task<string?> SendAndCheckAsync(HttpClient client, string method, string path, byte[]? body, string? contentType, int? expected,
        Dictionary<string, string>? headers = null, Accepted? accepted = null, bool mustAccept = false)
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
            if (mustAccept && status >= 300)
            {
                return $"refused: {status} {Cut(text)}";
            }
            if (status < 400)
            {
                if (status >= 300)
                {
                    return $"{status}";
                }
                _accepted++;
                var appended = await AppendedAfterAsync(before.Head);
                if (accepted is not null)
                {
                    return await accepted(status, text, appended);
                }
                return appended.Count == 0 ? null : $"{status}, and it appended {string.Join(", ", appended.Select(a => a.Type))}";
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
        var tally = new FuzzTally();
        // An audit read is recorded: exactly one audit.read of the auditor for the channel, in the workspace's stream.
        Accepted? Audited(string read) => (_, _, appended) => Task.FromResult(
            appended.Count == 1 && appended[0].Stream == $"workspace-{w.WorkspaceId}" && appended[0].Type == EventTypes.StoredTypeOf(typeof(ChannelAuditRead))
            && appended[0].Data.GetProperty("channelId").GetString() == ch && appended[0].Data.GetProperty("userId").GetString() == w.Auditor.UserId
            && appended[0].Data.GetProperty("read").GetString() == read
                ? null : $"appended {string.Join(", ", appended.Select(x => $"{x.Type} {Cut(x.Data.GetRawText())}"))}; documented: one audit.read ({read})");
        foreach (var (key, caller, path, badPaths, parameters) in FuzzTargets.Queries(w, _foreignChannel, _foreignPrivate))
        {
            var accepted = key.StartsWith("GET /v1/audit/", StringComparison.Ordinal) ? Audited(key.Split('/')[^1]) : null;
            Task<string?> SendAsync(string path, int? expected, Dictionary<string, string>? headers = null) =>
                SendAndCheckAsync(caller.Client, "GET", path, null, null, expected, headers, accepted);
            tally.Add(key, "valid", "the documented request", await SendAsync(path, null));
            foreach (var (label, bad, foreign) in badPaths)
            {
                tally.Add(key, foreign ? "other workspace ids" : "bad path ids", label,
                    await SendAsync(bad, foreign ? 404 : null));
            }
            var join = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";
            foreach (var parameter in parameters)
            {
                foreach (var value in QueryValues.Concat(Injections.Select(Uri.EscapeDataString)).Append("2020-13-45T99:00:00Z").Append("2020-01-01"))
                {
                    var category = value.Contains('%', StringComparison.Ordinal) || value.Length == 0 ? "query strings: encoding, injection" : "query strings: values";
                    tally.Add(key, category, $"{parameter}={Cut(value)}", await SendAsync($"{path}{join}{parameter}={value}", null));
                }
                tally.Add(key, "query strings: values", $"{parameter} twice", await SendAsync($"{path}{join}{parameter}=1&{parameter}=2", null));
            }
            // minPosition and X-Min-Position: values that are no position answer 400 at once.
            foreach (var value in new[] { "-1", "abc", "1e309", "NaN", "9223372036854775808", "%00", "1.5", new string('9', 400) })
            {
                tally.Add(key, "minPosition", $"?minPosition={Cut(value)}", await SendAsync($"{path}{join}minPosition={value}", null));
                tally.Add(key, "minPosition", $"X-Min-Position: {Cut(value)}", await SendAsync(path, null,
                    new() { ["X-Min-Position"] = Uri.UnescapeDataString(value).Replace("\0", "\\0", StringComparison.Ordinal) }));
            }
        }
        // A position beyond the log: 503 stale after the bounded wait (checked once: it takes the whole wait).
        tally.Add("GET /v1/channels/{channelId}/messages", "minPosition", "beyond the log",
            await SendAndCheckAsync(w.Member.Client, "GET", $"/v1/channels/{ch}/messages?minPosition=9223372036854775807", null, null, 503));
        tally.Report(output, "Query endpoints");
        output.WriteLine($"accepted (2xx), each judged by its effect on the log: {_accepted}");
        tally.AssertNone();
    }

    /// <summary>Each query parameter of a signed URL replaced by generated values, dropped or repeated, and the object id by bad ones.</summary>
    private static IEnumerable<(string Label, string Url)> Mutations(string url)
    {
        var (path, query) = (url.Split('?')[0], url.Split('?')[1].Split('&'));
        var id = path.Split('/')[^1];
        foreach (var bad in BadIds)
        {
            yield return ($"object {Cut(bad)}", url.Replace(id, bad, StringComparison.Ordinal));
        }
        for (var i = 0; i < query.Length; i++)
        {
            var name = query[i].Split('=')[0];
            string With(string? part) => $"{path}?{string.Join('&', query.Select((q, j) => j == i ? part : q).OfType<string>())}";
            foreach (var value in QueryValues.Concat(Injections.Select(Uri.EscapeDataString)))
            {
                yield return ($"{name}={Cut(value)}", With($"{name}={value}"));
            }
            yield return ($"no {name}", With(null));
            yield return ($"{name} twice", $"{url}&{query[i]}");
        }
    }

    [Fact]
    public async Task The_object_store_urls_survive_generated_bad_signatures_ids_and_bodies()
    {
        var tally = new FuzzTally();
        var client = World.Host.CreateClient(); // no token: the URL is the grant
        var (get, put) = (FuzzTargets.ObjectRoutes[0], FuzzTargets.ObjectRoutes[1]);
        var download = World.ObjectUrl("GET", expired: false);
        tally.Add(get, "valid", "a signed download URL", await SendAndCheckAsync(client, "GET", download, null, null, 200));
        foreach (var (label, url) in Mutations(download))
        {
            tally.Add(get, "bad signed URLs", label, await SendAndCheckAsync(client, "GET", url, null, null, null));
        }
        var asked = await World.Member.Ok("POST", "/v1/files", new { name = "fuzz.bin", size = 5, workspaceId = World.WorkspaceId }, HttpStatusCode.Created);
        var upload = asked.GetProperty("uploadUrl").GetString()!;
        foreach (var (label, url) in Mutations(upload))
        {
            tally.Add(put, "bad signed URLs", label, await SendAndCheckAsync(client, "PUT", url, "12345"u8.ToArray(), "application/octet-stream", null));
        }
        foreach (var size in new[] { 0, 1, 4, 6, 2 * 1024 * 1024 })
        {
            tally.Add(put, "bodies", $"{size} bytes for 5", await SendAndCheckAsync(client, "PUT", upload, new byte[size], "application/octet-stream", null));
        }
        tally.Add(put, "valid", "the 5 bytes asked for", await SendAndCheckAsync(client, "PUT", upload, "12345"u8.ToArray(), "application/octet-stream", 200));
        tally.Add(put, "bodies", "the same upload again", await SendAndCheckAsync(client, "PUT", upload, "12345"u8.ToArray(), "application/octet-stream", 409));
        tally.Report(output, "Object store URLs");
        tally.AssertNone();
    }

    [Fact]
    public async Task Admin_endpoints_survive_generated_bad_input_from_an_instance_administrator()
    {
        await using var host = new ChatHost(Db, new() { ["Roles"] = "api", ["Admins"] = World.Admin.UserId });
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecurityWorld.TokenOfUser(World.Admin));
        var tally = new FuzzTally();
        tally.Add(FuzzTargets.AdminRoutes[0], "valid", "status", await SendAndCheckAsync(client, "GET", "/v1/admin/projections", null, null, 200));
        tally.Add(FuzzTargets.AdminRoutes[3], "valid", "status", await SendAndCheckAsync(client, "GET", "/v1/admin/status", null, null, 200));
        foreach (var name in BadIds.Concat(Injections.Select(Uri.EscapeDataString)).Concat(["HISTORY", "history%01", "history.v2", new string('h', 5000)]))
        {
            tally.Add(FuzzTargets.AdminRoutes[1], "bad path ids", Cut(name),
                await SendAndCheckAsync(client, "POST", $"/v1/admin/projections/{name}/rebuild", null, null, null));
            tally.Add(FuzzTargets.AdminRoutes[2], "bad path ids", Cut(name),
                await SendAndCheckAsync(client, "POST", $"/v1/admin/projections/{name}/restart", null, null, null));
        }
        // Deactivating and reactivating a user of its own (a deactivation revokes every token of the user).
        using (var register = await host.CreateClient().PostAsync("/v1/auth/register", new StringContent(
                   JsonSerializer.Serialize(new { email = $"fz-{Guid.NewGuid():N}@example.test", password = SecurityWorld.Password, displayName = "fz" }),
                   Encoding.UTF8, "application/json")))
        {
            var target = JsonDocument.Parse(await register.Content.ReadAsStringAsync()).RootElement.GetProperty("userId").GetString()!;
            Accepted Only(string type) => (_, _, appended) => Task.FromResult<string?>(
                appended.Count == 1 && appended[0].Stream == $"user-{target}" && appended[0].Type == type
                    && appended[0].Data.GetProperty("by").GetString() == World.Admin.UserId
                    ? null : $"appended {string.Join(", ", appended.Select(a => $"{a.Stream} {a.Type}"))}");
            var (deactivate, reactivate) = (FuzzTargets.AdminRoutes[4], FuzzTargets.AdminRoutes[5]);
            tally.Add(deactivate, "valid", "a user", await SendAndCheckAsync(client, "POST", $"/v1/admin/users/{target}/deactivate", null, null, 200,
                accepted: Only("user.deactivated.v1")));
            tally.Add(deactivate, "valid", "the same user again (nothing)", await SendAndCheckAsync(client, "POST", $"/v1/admin/users/{target}/deactivate", null, null, 200));
            tally.Add(deactivate, "refused", "themselves", await SendAndCheckAsync(client, "POST", $"/v1/admin/users/{World.Admin.UserId}/deactivate", null, null, 400));
            tally.Add(reactivate, "valid", "the user", await SendAndCheckAsync(client, "POST", $"/v1/admin/users/{target}/reactivate", null, null, 200,
                accepted: Only("user.reactivated.v1")));
            foreach (var (label, body, contentType) in UnexpectedBodies)
            {
                tally.Add(reactivate, "unexpected body", label,
                    await SendAndCheckAsync(client, "POST", $"/v1/admin/users/{target}/reactivate", body, contentType, null));
            }
        }
        foreach (var id in BadIds.Concat(Injections.Select(Uri.EscapeDataString)))
        {
            tally.Add(FuzzTargets.AdminRoutes[4], "bad path ids", Cut(id), await SendAndCheckAsync(client, "POST", $"/v1/admin/users/{id}/deactivate", null, null, null));
            tally.Add(FuzzTargets.AdminRoutes[5], "bad path ids", Cut(id), await SendAndCheckAsync(client, "POST", $"/v1/admin/users/{id}/reactivate", null, null, null));
        }
        tally.Report(output, "Admin endpoints");
        output.WriteLine($"accepted (2xx), each judged by its effect on the log: {_accepted}");
        tally.AssertNone();
    }

    [Fact]
    public async Task Member_removal_survives_generated_bad_input_and_an_accepted_one_has_exactly_its_effect()
    {
        // A workspace of its own: a removal would change the shared world.
        var admin = await RegisterAsync("fzadmin");
        var member = await RegisterAsync("fzmember");
        var leaver = await RegisterAsync("fzleaver");
        var ws = await WorkspaceAsync(admin, member, leaver);
        var route = FuzzTargets.MemberRoutes[0];
        var tally = new FuzzTally();
        Accepted Removed(string userId, string? by) => (_, _, appended) => Task.FromResult<string?>(
            appended.Count == 1 && appended[0].Stream == $"workspace-{ws}" && appended[0].Type == "workspace.member_removed.v1"
                && appended[0].Data.GetProperty("userId").GetString() == userId
                && (appended[0].Data.TryGetProperty("removedBy", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null) == by
                ? null : $"appended {string.Join(", ", appended.Select(a => $"{a.Stream} {a.Type}"))}");
        foreach (var bad in BadIds)
        {
            tally.Add(route, "bad path ids", $"workspace {Cut(bad)}",
                await SendAndCheckAsync(admin.Client, "DELETE", $"/v1/workspaces/{bad}/members/{member.UserId}", null, null, null));
            tally.Add(route, "bad path ids", $"user {Cut(bad)}",
                await SendAndCheckAsync(admin.Client, "DELETE", $"/v1/workspaces/{ws}/members/{bad}", null, null, null));
        }
        tally.Add(route, "other workspace ids", "another workspace",
            await SendAndCheckAsync(admin.Client, "DELETE", $"/v1/workspaces/{World.OtherWorkspaceId}/members/{World.Other.UserId}", null, null, 404));
        tally.Add(route, "refused", "the last admin leaving",
            await SendAndCheckAsync(admin.Client, "DELETE", $"/v1/workspaces/{ws}/members/{admin.UserId}", null, null, 409));
        tally.Add(route, "refused", "a member removing another",
            await SendAndCheckAsync(leaver.Client, "DELETE", $"/v1/workspaces/{ws}/members/{member.UserId}", null, null, 403));
        tally.Add(route, "valid", "an admin removes a member",
            await SendAndCheckAsync(admin.Client, "DELETE", $"/v1/workspaces/{ws}/members/{member.UserId}", null, null, 200, accepted: Removed(member.UserId, admin.UserId)));
        tally.Add(route, "valid", "a member leaves",
            await SendAndCheckAsync(leaver.Client, "DELETE", $"/v1/workspaces/{ws}/members/{leaver.UserId}", null, null, 200, accepted: Removed(leaver.UserId, null)));
        foreach (var (label, body, contentType) in UnexpectedBodies)
        {
            tally.Add(route, "unexpected body", label,
                await SendAndCheckAsync(admin.Client, "DELETE", $"/v1/workspaces/{ws}/members/{member.UserId}", body, contentType, null));
        }
        tally.Report(output, "Member removal");
        tally.AssertNone();
    }
}
