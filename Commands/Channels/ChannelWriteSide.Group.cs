using System.Collections.Immutable;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using Npgsql;

namespace EventSourcedChat.Commands.Channels;

/// <summary>The slice a group of commands on one channel decides on: the channel, the people and the messages they name.</summary>
public static partial class ChannelWriteSide
{
    /// <summary>
    /// Adds the reads of the group slice to <paramref name="batch"/> (after the stream lock, in the same round trip):
    /// the channel row, the membership and workspace role of each of <paramref name="userIds"/>, the messages
    /// <paramref name="seqs"/> (no statement when there are none). Read the results with <see cref="ReadGroupAsync"/>.
    /// </summary>
    public static void AddGroupRead(NpgsqlBatch batch, string channelId, IReadOnlyCollection<string> userIds, IReadOnlyCollection<long> seqs)
    {
        batch.Add("""
            select c.workspace_id, c.name, c.kind, c.topic, c.created_by, c.archived, c.version, c.pin_count
              from ws_channels c where c.channel_id = $1
            """, channelId);
        batch.Add(PeopleSql, channelId, userIds.ToArray());
        if (seqs.Count > 0)
        {
            batch.Add("""
                select m.seq, m.author_id, m.thread_root_seq, m.deleted, m.pinned
                  from ws_messages m where m.channel_id = $1 and m.seq = any ($2::bigint[])
                """, channelId, seqs.ToArray());
        }
    }

    /// <summary>The membership and workspace role of each of <c>$2</c> in channel <c>$1</c>.</summary>
    /// <remarks>
    /// One lookup of the whole key per person (each subquery, fenced by its <c>limit</c>, runs once per person), not
    /// <c>exists (... where m.channel_id = $1 and m.user_id = u.id)</c>: PostgreSQL planned that, in the generic plan a
    /// prepared statement keeps, as a hashed subplan that reads every member of the channel at every group of posts
    /// (1,000 rows a post in a channel of 1,000: 0.47 ms of the database's time, pg_stat_statements).
    /// </remarks>
    internal const string PeopleSql = """
        select u.id, m.user_id is not null, w.role
          from unnest($2::text[]) as u(id)
          left join lateral (select m.user_id from ws_channel_members m where m.channel_id = $1 and m.user_id = u.id limit 1) m on true
          left join lateral (select w.role from ws_workspace_members w
                              where w.workspace_id = (select c.workspace_id from ws_channels c where c.channel_id = $1)
                                and w.user_id = u.id limit 1) w on true
        """;

    /// <summary>
    /// The results of <see cref="AddGroupRead"/> (<paramref name="withMessages"/>: it was given seqs), the reader on the
    /// first of them; leaves it on the last.
    /// </summary>
    public static async Task<(WorkspaceState Workspace, ChannelState Channel)> ReadGroupAsync(
        NpgsqlDataReader r, string channelId, bool withMessages, CancellationToken ct)
    {
        if (!await r.ReadAsync(ct))
        {
            await r.NextResultAsync(ct);
            if (withMessages)
            {
                await r.NextResultAsync(ct);
            }
            return (WorkspaceState.Initial, ChannelState.Initial);
        }
        var workspaceId = r.GetString(0);
        var channel = ChannelState.Initial with
        {
            ChannelId = channelId, WorkspaceId = workspaceId, Name = r.GetString(1), Kind = r.GetString(2),
            Topic = r.IsDBNull(3) ? null : r.GetString(3), CreatedBy = r.GetString(4), Archived = r.GetBoolean(5), Version = r.GetInt64(6),
            PinCount = r.GetInt32(7),
        };
        var members = ImmutableDictionary.CreateBuilder<string, long>();
        var roles = ImmutableDictionary.CreateBuilder<string, string>();
        await r.NextResultAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var userId = r.GetString(0);
            if (r.GetBoolean(1))
            {
                members[userId] = 0; // when they joined is not kept
            }
            if (!r.IsDBNull(2))
            {
                roles[userId] = r.GetString(2);
            }
        }
        var messages = ImmutableDictionary.CreateBuilder<long, MessageState>();
        if (withMessages)
        {
            await r.NextResultAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var seq = r.GetInt64(0);
                messages[seq] = new MessageState(seq, r.GetString(1), r.IsDBNull(2) ? null : r.GetInt64(2), r.GetBoolean(3), [])
                    { Pinned = r.GetBoolean(4) };
            }
        }
        var workspace = WorkspaceState.Initial with { WorkspaceId = workspaceId, Roles = roles.ToImmutable() };
        return (workspace, channel with { Members = members.ToImmutable(), Messages = messages.ToImmutable() });
    }
}
