using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Channels;

/// <param name="Place">True to place the hold, false to lift it.</param>
public sealed record LegalHold(bool Place, string? Reason);

public sealed record LegalHoldRequest(string? Reason);

public static class LegalHoldEndpoint
{
    public const int MaxReasonLength = 500;

    /// <summary>
    /// A workspace admin places a channel on legal hold or lifts it (private channels and DMs included, member or not);
    /// a member who sees the channel but is not an admin is refused, anyone else finds no channel. The same state again
    /// changes nothing.
    /// </summary>
    public static IReadOnlyList<object> Decide(string channelId, bool visible, string? actorRole, bool held, LegalHold command, string actorId)
    {
        if (actorRole != "admin")
        {
            throw visible ? CommandRejected.Forbidden("Only workspace admins place or lift legal holds.") : CommandRejected.NotFound("The channel");
        }
        var reason = string.IsNullOrWhiteSpace(command.Reason) ? null : command.Reason.Trim();
        if (reason is { Length: > MaxReasonLength })
        {
            throw CommandRejected.Invalid($"A reason has at most {MaxReasonLength} characters.");
        }
        if (held == command.Place)
        {
            return [];
        }
        return command.Place ? [new LegalHoldPlaced(channelId, reason, actorId)] : [new LegalHoldLifted(channelId, actorId)];
    }

    public static RouteGroupBuilder MapLegalHold(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/legal-hold", (string channelId, LegalHoldRequest? body, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new LegalHold(true, body?.Reason), http, store, ct)).WithName("PlaceLegalHold");
        group.MapDelete("/channels/{channelId}/legal-hold", (string channelId, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new LegalHold(false, null), http, store, ct)).WithName("LiftLegalHold");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, LegalHold command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        if (!Ids.IsValid(channelId))
        {
            throw CommandRejected.NotFound("The channel");
        }
        var stream = Ids.ChannelStream(channelId);
        return TypedResults.Ok(await ChatEventStore.RetryOnConflict(() => store.InTransactionAsync(async (tx, token) =>
        {
            await tx.ExecuteAsync("select 1 from ws_channels where channel_id = $1 for update", token, channelId);
            await using var cmd = new Npgsql.NpgsqlCommand("""
                select c.version, c.kind = 'public' or exists (select 1 from ws_channel_members m where m.channel_id = c.channel_id and m.user_id = $2),
                       (select w.role from ws_workspace_members w where w.workspace_id = c.workspace_id and w.user_id = $2),
                       exists (select 1 from es_stream_holds h where h.stream_id = $3)
                  from ws_channels c where c.channel_id = $1
                """, tx.Connection, tx);
            cmd.Parameters.AddWithValue(channelId);
            cmd.Parameters.AddWithValue(actor.UserId);
            cmd.Parameters.AddWithValue(stream);
            long version;
            bool visible, held;
            string? role;
            await using (var r = await cmd.ExecuteReaderAsync(token))
            {
                if (!await r.ReadAsync(token))
                {
                    throw CommandRejected.NotFound("The channel");
                }
                (version, visible, role, held) = (r.GetInt64(0), r.GetBoolean(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetBoolean(3));
            }
            var events = Decide(channelId, visible && role is not null, role, held, command, actor.UserId);
            if (events.Count == 0)
            {
                return new PositionResponse(await store.HeadPositionAsync(stream, token));
            }
            var result = await store.AppendAsync(tx, stream, ExpectedVersion.Exactly(version), events, actor, ct: token);
            _ = command.Place
                ? await PostgresEventStore.PlaceHoldAsync(tx, stream, ((LegalHoldPlaced)events[0]).Reason, token)
                : await PostgresEventStore.LiftHoldAsync(tx, stream, token);
            await ChannelState.SetVersionAsync(tx, channelId, result.Version, token);
            return new PositionResponse(result.Position);
        }, ct)));
    }
}
