using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Xunit.Abstractions;
using static EventSourcedChat.Tests.Security.FuzzInputs;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// Generated bad arguments for every hub method (<see cref="FuzzTargets.HubMethods"/>) and raw frames that are not
/// invocations at all: each is answered with an error or ends the connection cleanly, appends nothing to the log, and
/// the server keeps serving (a valid call afterwards is answered, on the same connection or a new one).
/// </summary>
public sealed class FuzzingHub(PostgresFixture db, ITestOutputHelper output) : SecurityTest(db)
{
    [Fact]
    public async Task Every_hub_method_survives_generated_bad_arguments_and_frames()
    {
        var (foreignChannel, foreignPrivate) = await World.ForeignChannelsAsync();
        var w = World;
        string J(object? v) => JsonSerializer.Serialize(v);
        var tally = new FuzzTally();
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
                await hubRef.Hub.SendAsync(RawHub.Invocation(probe, "SetPresence", "[\"active\"]"));
                return await hubRef.Hub.CompletionAsync(probe, TimeSpan.FromSeconds(15));
            }
            catch (Exception e) when (e is WebSocketException or InvalidOperationException or IOException)
            {
                return null;
            }
        }

        static string? Refused(JsonElement? completion) =>
            completion is { } c && !c.TryGetProperty("error", out _) ? $"accepted: {Cut(c.ToString())}" : null;

        foreach (var (method, valid, wrongArgs, texts, foreign) in FuzzTargets.HubMethods(w, foreignChannel, foreignPrivate))
        {
            string id;
            foreach (var arg in wrongArgs)
            {
                id = Id();
                await CaseAsync(method, "wrong types and numeric edges", Cut(arg), RawHub.Invocation(id, method, $"[{arg}]"), id);
            }
            id = Id();
            await CaseAsync(method, "missing and extra arguments", "none", RawHub.Invocation(id, method, "[]"), id, Refused);
            id = Id();
            await CaseAsync(method, "missing and extra arguments", "one too many", RawHub.Invocation(id, method, valid[..^1] + ",1]"), id, Refused);
            id = Id();
            await CaseAsync(method, "missing and extra arguments", "arguments not an array", RawHub.Invocation(id, method, "{\"a\":1}"), id);
            foreach (var arg in texts)
            {
                id = Id();
                var category = arg.Length > 10_000 ? "huge or deep" : Injections.Any(i => arg.Contains(JsonSerializer.Serialize(i)[1..^1], StringComparison.Ordinal)) ? "injection" : "control chars and NUL";
                await CaseAsync(method, category, Cut(arg), RawHub.Invocation(id, method, arg), id);
            }
            foreach (var arg in foreign)
            {
                id = Id();
                await CaseAsync(method, "other workspace ids", Cut(arg), RawHub.Invocation(id, method, arg), id, c => method switch
                {
                    "Typing" => c is { } t && t.TryGetProperty("error", out var e) && e.GetString()!.Contains("not_found", StringComparison.Ordinal)
                        ? null : $"expected a not_found error, got {c?.ToString() ?? "a closed connection"}",
                    _ => c is { } ok && !ok.TryGetProperty("error", out _) ? null : $"expected a completion, got {c?.ToString() ?? "a closed connection"}",
                });
            }
            id = Id();
            await CaseAsync(method, "huge or deep", "deep arguments", RawHub.Invocation(id, method, "[" + new string('[', 10_000) + new string(']', 10_000) + "]"), id);
            id = Id();
            var broken = RawHub.Invocation(id, method, valid).ToList();
            broken.InsertRange(broken.IndexOf((byte)'['), [0xFF, 0xC3, 0x28]);
            await CaseAsync(method, "invalid UTF-8", "before the arguments", [.. broken], id);
        }
        // Frames that are not invocations of a method at all.
        var frames = new (string Label, string Category, byte[] Frame)[]
        {
            ("unknown method", "protocol", RawHub.Invocation("u1", "DropAllTables", "[]")),
            ("method of the wrong case", "protocol", RawHub.Invocation("u2", "resume", "[0]")),
            ("OnConnectedAsync", "protocol", RawHub.Invocation("u3", "OnConnectedAsync", "[]")),
            ("not JSON", "protocol", Encoding.UTF8.GetBytes("not json\u001e")),
            ("no type", "protocol", Encoding.UTF8.GetBytes("{\"target\":\"Resume\",\"arguments\":[0]}\u001e")),
            ("type 99", "protocol", Encoding.UTF8.GetBytes("{\"type\":99}\u001e")),
            ("stream invocation", "protocol", Encoding.UTF8.GetBytes("{\"type\":4,\"invocationId\":\"s1\",\"target\":\"Resume\",\"arguments\":[0]}\u001e")),
            ("NUL frame", "control chars and NUL", Encoding.UTF8.GetBytes("\0\u001e")),
            ("invalid UTF-8 frame", "invalid UTF-8", [0xFF, 0xFE, 0xC3, 0x28, 0x1E]),
            ("1 MB frame", "huge or deep", RawHub.Invocation("h1", "Typing", J(new string('a', 1_000_000)))),
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
}
