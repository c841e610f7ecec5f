using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.Projections.Directory;

/// <summary>
/// Who exists and who is where: users, workspaces and their members and invites, channels with their members, kind, topic,
/// archived flag and last seq. Every query checks visibility against it (invariant 8).
/// </summary>
public sealed class DirectoryProjection : Projection
{
    public const string ProjectionName = "directory";

    public override string Name => ProjectionName;

    public override string CreateSql => """
        create table if not exists users (
            user_id text primary key, display_name text not null, email text not null);
        create table if not exists workspaces (
            workspace_id text primary key, name text not null, created_by text not null, created_at timestamptz not null);
        create table if not exists workspace_members (
            workspace_id text not null, user_id text not null, role text not null, primary key (workspace_id, user_id));
        create index if not exists workspace_members_user on workspace_members (user_id);
        create table if not exists channels (
            channel_id text primary key, workspace_id text not null, name text not null, kind text not null,
            topic text, created_by text not null, archived boolean not null default false,
            member_count int not null default 0, last_seq bigint not null, last_position bigint not null,
            created_at timestamptz not null);
        create index if not exists channels_workspace on channels (workspace_id, name);
        create table if not exists channel_members (
            channel_id text not null, user_id text not null, joined_seq bigint not null, primary key (channel_id, user_id));
        create index if not exists channel_members_user on channel_members (user_id);
        create table if not exists invites (
            invite_id text primary key, workspace_id text not null, email text, max_uses int not null,
            uses int not null default 0, expires_at timestamptz not null, created_by text not null,
            created_at timestamptz not null, revoked_at timestamptz);
        create index if not exists invites_workspace on invites (workspace_id, invite_id);
        """;

    /// <summary>A channel event that only moves the channel's last seq: in a run, the last one per channel wins.</summary>
    private static readonly RowStatement Touched = new("""
        update channels ch set last_seq = t.seq, last_position = t.position
          from (select distinct on (channel_id) channel_id, seq, position from {rows} order by channel_id, n desc) t
         where ch.channel_id = t.channel_id
        """, ("channel_id", "text"), ("seq", "bigint"), ("position", "bigint"));

    private static readonly RowStatement Registered = new("""
        insert into users (user_id, display_name, email) select user_id, display_name, email from {rows}
        on conflict (user_id) do nothing
        """, ("user_id", "text"), ("display_name", "text"), ("email", "text"));

    /// <summary>The last role given in a run wins, as one at a time.</summary>
    private static readonly RowStatement WorkspaceMemberAdded = new("""
        insert into workspace_members (workspace_id, user_id, role)
        select distinct on (workspace_id, user_id) workspace_id, user_id, role from {rows} order by workspace_id, user_id, n desc
        on conflict (workspace_id, user_id) do update set role = excluded.role
        """, ("workspace_id", "text"), ("user_id", "text"), ("role", "text"));

    /// <summary>
    /// Joins of a run: the member count moves by the rows actually inserted (a repeated join adds nothing), so a join
    /// costs the same in a channel of ten or ten thousand members.
    /// </summary>
    private static readonly RowStatement Joined = new("""
        with j as (select * from {rows}),
             added as (insert into channel_members (channel_id, user_id, joined_seq)
                       select channel_id, user_id, seq from j order by n
                       on conflict (channel_id, user_id) do nothing returning channel_id),
             counts as (select channel_id, count(*) as added from added group by channel_id),
             last as (select distinct on (channel_id) channel_id, seq, position from j order by channel_id, n desc)
        update channels ch set member_count = ch.member_count + coalesce(counts.added, 0),
               last_seq = last.seq, last_position = last.position
          from last left join counts on counts.channel_id = last.channel_id
         where ch.channel_id = last.channel_id
        """, ("channel_id", "text"), ("user_id", "text"), ("seq", "bigint"), ("position", "bigint"));

    public DirectoryProjection()
    {
        On<UserRegistered>((e, c) => c.Row(Registered, e.UserId, e.DisplayName, e.Email));
        On<UserProfileUpdated>((e, c) => c.Sql("update users set display_name = $2 where user_id = $1", e.UserId, e.DisplayName));
        On<WorkspaceCreated>((e, c) => c.Sql(
            "insert into workspaces (workspace_id, name, created_by, created_at) values ($1, $2, $3, $4) on conflict do nothing",
            e.WorkspaceId, e.Name, e.CreatedBy, c.At));
        On<WorkspaceMemberAdded>((e, c) => c.Row(WorkspaceMemberAdded, e.WorkspaceId, e.UserId, e.Role));
        // Invites, for the admins' list (never the secret: the log holds only its hash, and this table not even that).
        On<InviteCreated>((e, c) => c.Sql("""
            insert into invites (invite_id, workspace_id, email, max_uses, expires_at, created_by, created_at)
            values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing
            """, e.InviteId, e.WorkspaceId, e.Email, e.MaxUses, e.ExpiresAt, e.CreatedBy, c.At));
        On<InviteAccepted>((e, c) => c.Sql("update invites set uses = uses + 1 where invite_id = $1", e.InviteId));
        On<InviteRevoked>((e, c) => c.Sql("update invites set revoked_at = $2 where invite_id = $1 and revoked_at is null", e.InviteId, c.At));
        // A removed member's channel memberships end with their own member.left events; queries already require the
        // workspace membership (ReadModels' ChannelAccess), so nothing of the workspace shows from here on.
        On<WorkspaceMemberRemoved>((e, c) => c.Sql(
            "delete from workspace_members where workspace_id = $1 and user_id = $2", e.WorkspaceId, e.UserId));
        On<ChannelCreated>((e, c) => c.Sql("""
            insert into channels (channel_id, workspace_id, name, kind, topic, created_by, last_seq, last_position, created_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict do nothing
            """, e.ChannelId, e.WorkspaceId, e.Name, e.Kind, e.Topic, e.CreatedBy, c.Seq, c.Position, c.At));
        On<ChannelRenamed>((e, c) => Touch(c, e.ChannelId, "name = $4", e.Name));
        On<ChannelTopicSet>((e, c) => Touch(c, e.ChannelId, "topic = $4", e.Topic));
        On<ChannelArchived>((e, c) => Touch(c, e.ChannelId, "archived = true"));
        On<ChannelUnarchived>((e, c) => Touch(c, e.ChannelId, "archived = false"));
        On<MemberJoined>((e, c) => c.Row(Joined, e.ChannelId, e.UserId, c.Seq, c.Position));
        On<MemberLeft>((e, c) => c.Sql("""
            with removed as (delete from channel_members where channel_id = $1 and user_id = $2 returning 1)
            update channels set last_seq = $3, last_position = $4, member_count = member_count - (select count(*) from removed)
             where channel_id = $1
            """, e.ChannelId, e.UserId, c.Seq, c.Position));
        // Every other channel event only moves the channel's last seq: one row, whatever the member count.
        On<MessagePosted>((e, c) => c.Row(Touched, e.ChannelId, c.Seq, c.Position));
        On<MessageEdited>((e, c) => c.Row(Touched, e.ChannelId, c.Seq, c.Position));
        On<MessageDeleted>((e, c) => c.Row(Touched, e.ChannelId, c.Seq, c.Position));
        On<ReactionAdded>((e, c) => c.Row(Touched, e.ChannelId, c.Seq, c.Position));
        On<ReactionRemoved>((e, c) => c.Row(Touched, e.ChannelId, c.Seq, c.Position));
        On<MessagePinned>((e, c) => c.Row(Touched, e.ChannelId, c.Seq, c.Position));
        On<MessageUnpinned>((e, c) => c.Row(Touched, e.ChannelId, c.Seq, c.Position));
    }

    private static void Touch(EventContext c, string channelId, string? set = null, object? value = null)
    {
        var extra = set is null ? "" : ", " + set;
        var sql = $"update channels set last_seq = $2, last_position = $3{extra} where channel_id = $1";
        if (sql.Contains("$4", StringComparison.Ordinal))
        {
            c.Sql(sql, channelId, c.Seq, c.Position, value);
        }
        else
        {
            c.Sql(sql, channelId, c.Seq, c.Position);
        }
    }
}
