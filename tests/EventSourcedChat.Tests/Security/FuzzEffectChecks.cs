using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Security;

/// <summary>How an effect is checked: the request as the server binds it, the events appended, the state an idempotent
/// command sets as the log shows it, and the state read back through the API.</summary>
internal sealed partial class FuzzEffects
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static string Stored(Type type) => EventTypes.StoredTypeOf(type);

    private static string? Topic(string? topic) => string.IsNullOrWhiteSpace(topic) ? null : topic.Trim();

    /// <summary>The request as the server binds it: decoded by its charset (UTF-8 unless told).</summary>
    private static JsonElement? Parse(byte[]? body, string? contentType)
    {
        try
        {
            var charset = contentType is null ? null : System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType).CharSet;
            var text = (charset is null ? System.Text.Encoding.UTF8 : System.Text.Encoding.GetEncoding(charset)).GetString(body ?? []);
            return text.Length == 0 ? null : JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A field as the server binds it: names without case, the last of duplicate fields wins.</summary>
    private static JsonElement? Field(JsonElement? request, string name) =>
        request is { ValueKind: JsonValueKind.Object } r
            ? r.EnumerateObject().LastOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) is { Value.ValueKind: not JsonValueKind.Undefined } p
                ? p.Value : null
            : null;

    /// <summary>
    /// The state an idempotent command sets, read from the log: the events that set it (<c>Types</c>), which of them are
    /// about the same thing (<c>About</c>), and whether the last of those (type and data; none before any) means it holds.
    /// </summary>
    private sealed record State(Type[] Types, Func<JsonElement, bool> About, Func<string?, JsonElement?, bool> Holds);

    /// <summary>A state switched on and off by two events, off before either (not a member, not archived, no hold).</summary>
    private static State Flag(Type on, Type off, bool setsOn, Func<JsonElement, bool> about) =>
        new([on, off], about, (type, _) => (type == Stored(on)) == setsOn);

    private static bool Is(JsonElement data, string field, string value) =>
        data.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() == value;

    /// <summary>
    /// An idempotent command (API.md): when its state already held, it appends nothing; otherwise exactly its event. Both
    /// judged on the log: nothing appended is right only if the state held, an event only if it did not hold before it.
    /// </summary>
    private async Task<string?> IdempotentAsync(IReadOnlyList<LoggedEvent> appended, (string Stream, Type Type, object Data) expected, State state)
    {
        if (appended.Count > 0 && Exactly(appended, expected) is { } wrong)
        {
            return wrong;
        }
        var (type, data) = await LastAsync(expected.Stream, state, appended.Count > 0 ? appended[0].Position : long.MaxValue);
        var held = state.Holds(type, data);
        return appended.Count == 0
            ? held ? null : $"appended nothing, but what {Stored(expected.Type)} would set did not hold"
            : held ? $"appended {appended[0].Type} although that already held: documented idempotent, nothing to append" : null;
    }

    /// <summary>The last event of <paramref name="stream"/> before <paramref name="before"/> that sets <paramref name="state"/>.</summary>
    private async Task<(string? Type, JsonElement? Data)> LastAsync(string stream, State state, long before)
    {
        await using var cmd = w.Db.DataSource.CreateCommand(
            "select type, data::text from es_events where stream_id = $1 and type = any($2) and position < $3 order by position desc");
        cmd.Parameters.AddWithValue(stream);
        cmd.Parameters.AddWithValue(state.Types.Select(Stored).ToArray());
        cmd.Parameters.AddWithValue(before);
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            var data = JsonDocument.Parse(r.GetString(1)).RootElement.Clone();
            if (state.About(data))
            {
                return (r.GetString(0), data);
            }
        }
        return (null, null);
    }

    /// <summary>The appended events are exactly these, in order: stream, type, and every field given.</summary>
    private static string? Exactly(IReadOnlyList<LoggedEvent> appended, params (string Stream, Type Type, object Data)[] expected)
    {
        string Describe(IEnumerable<LoggedEvent> events) => events.Any() ? string.Join(", ", events.Select(e => $"{e.Type} on {e.Stream}")) : "nothing";
        if (appended.Count != expected.Length || appended.Zip(expected).Any(p => p.First.Stream != p.Second.Stream || p.First.Type != Stored(p.Second.Type)))
        {
            return $"appended {Describe(appended)}; documented: " +
                   (expected.Length == 0 ? "nothing" : string.Join(", ", expected.Select(e => $"{Stored(e.Type)} on {e.Stream}")));
        }
        foreach (var (e, (_, type, data)) in appended.Zip(expected))
        {
            foreach (var field in JsonSerializer.SerializeToElement(data, Web).EnumerateObject())
            {
                if (!e.Data.TryGetProperty(field.Name, out var stored) || !JsonElement.DeepEquals(stored, field.Value))
                {
                    return $"{e.Type} has {field.Name} = {SecurityTest.Cut(stored.ValueKind == JsonValueKind.Undefined ? "(none)" : stored.GetRawText())}, " +
                           $"the request carried {SecurityTest.Cut(field.Value.GetRawText())}";
                }
            }
        }
        return null;
    }

    /// <summary>GET <paramref name="path"/> once the read models reached <paramref name="position"/>: null when it shows the effect.</summary>
    private static async Task<string?> ReadBackAsync(HttpClient client, string path, long? position, Func<JsonElement, bool> shows)
    {
        async Task<(HttpStatusCode Status, string Text)> GetAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (position is { } p)
            {
                request.Headers.Add("X-Min-Position", p.ToString(CultureInfo.InvariantCulture));
            }
            using var response = await client.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        try
        {
            // Asked again while the server's own bounded wait (5 s) ends in 503 stale: a loaded box can take longer.
            var (status, text) = await Eventually.Until(GetAsync, r => r.Status != HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30),
                $"the read models to reach {position}");
            return status == HttpStatusCode.OK && shows(JsonDocument.Parse(text).RootElement)
                ? null : $"read back GET {SecurityTest.Cut(path)}: {(int)status} {SecurityTest.Cut(text)}";
        }
        catch (TimeoutException e)
        {
            return $"read back GET {SecurityTest.Cut(path)}: {e.Message}";
        }
    }

    private Task<string?> MembersHaveAsync(HttpClient client, string userId, bool member, long? position) =>
        ReadBackAsync(client, $"/v1/channels/{s.ChannelId}/members", position,
            r => member == r.EnumerateArray().Any(m => m.GetProperty("userId").GetString() == userId));

    private async Task<string?> TokenWorksAsync(JsonElement answer, bool expected)
    {
        using var client = w.ClientWith(answer.GetProperty("token").GetString());
        using var response = await client.GetAsync("/v1/workspaces");
        return (response.StatusCode == HttpStatusCode.OK) == expected ? null : $"the answered token gets {(int)response.StatusCode} on GET /v1/workspaces";
    }

    /// <summary>
    /// After an accepted password change or reset: the new password signs in, and the account gets the world's password
    /// back (changed with the new one), so the cases after it sign in as before.
    /// </summary>
    private async Task<string?> PasswordBackAsync(string newPassword)
    {
        var user = w.Account;
        using var login = await w.Host.CreateClient().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = newPassword });
        if (login.StatusCode != HttpStatusCode.OK)
        {
            return $"the new password does not sign in ({(int)login.StatusCode})";
        }
        if (newPassword == SecurityWorld.Password)
        {
            return null;
        }
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        using var signedIn = w.ClientWith(token);
        using var back = await signedIn.PostAsJsonAsync("/v1/auth/password", new { currentPassword = newPassword, newPassword = SecurityWorld.Password });
        return back.StatusCode == HttpStatusCode.OK ? null : $"could not set the password back ({(int)back.StatusCode})";
    }

    private static async Task<string?> RevokedAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/v1/workspaces");
        return response.StatusCode == HttpStatusCode.Unauthorized ? null : $"the logged-out token still gets {(int)response.StatusCode}";
    }

    /// <summary>Workspace roles have no query of their own: the write side's table is read.</summary>
    private async Task<string?> RoleIsAsync(string userId, string role)
    {
        await using var cmd = w.Db.DataSource.CreateCommand("select role from ws_workspace_members where workspace_id = $1 and user_id = $2");
        cmd.Parameters.AddWithValue(w.WorkspaceId);
        cmd.Parameters.AddWithValue(userId);
        var actual = await cmd.ExecuteScalarAsync() as string;
        return actual == role ? null : $"the user's role is {actual ?? "(none)"}, the request asked for {role}";
    }
}
