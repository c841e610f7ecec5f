using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.Projections.Files;

/// <summary>
/// What the deletion of deleted messages' files needs to know from the log (<see cref="FileReaper"/>): every message that
/// carried each file, live or deleted (<c>carriers</c>), the channels on legal hold (<c>holds</c>), and the files whose
/// last live carrier was deleted, with when (<c>deletions</c>).
/// </summary>
/// <remarks>
/// A post carrying a file again takes it out of <c>deletions</c>; deleting the last live message carrying it puts it
/// back with the time of that deletion. Held channels are not filtered here: the reaper skips a file while any channel it
/// was shared in is held, so lifting the hold lets the pending deletion proceed with nothing to replay.
/// </remarks>
public sealed class FileProjection : Projection
{
    public const string ProjectionName = "files";

    /// <summary>The checkpoint of this projection (what a test waits for before asking the reaper).</summary>
    public static readonly string Checkpoint = CheckpointOf(ProjectionName);

    public override string Name => ProjectionName;

    public override string CreateSql => """
        create table if not exists carriers (
            file_id text not null, channel_id text not null, seq bigint not null, deleted_at timestamptz,
            primary key (file_id, channel_id, seq));
        create index if not exists carriers_message on carriers (channel_id, seq);
        create table if not exists holds (channel_id text primary key);
        create table if not exists deletions (file_id text primary key, deleted_at timestamptz not null);
        create index if not exists deletions_due on deletions (deleted_at, file_id);
        """;

    public FileProjection()
    {
        On<MessagePosted>((e, c) =>
        {
            if (e.Files is not { Count: > 0 } files)
            {
                return;
            }
            var ids = files.Select(f => f.FileId).ToArray();
            c.Sql("insert into carriers (file_id, channel_id, seq) select unnest($1::text[]), $2, $3 on conflict do nothing", ids, e.ChannelId, c.Seq);
            c.Sql("delete from deletions where file_id = any ($1)", (object)ids);
        });
        // The outer statement sees the carriers as they were before the CTE's update, hence the exclusion of this message.
        On<MessageDeleted>((e, c) => c.Sql("""
            with dead as (
                update carriers set deleted_at = $3 where channel_id = $1 and seq = $2 and deleted_at is null returning file_id)
            insert into deletions (file_id, deleted_at)
            select d.file_id, $3 from dead d
             where not exists (select 1 from carriers o where o.file_id = d.file_id and o.deleted_at is null
                                                          and not (o.channel_id = $1 and o.seq = $2))
            on conflict (file_id) do update set deleted_at = excluded.deleted_at
            """, e.ChannelId, e.Seq, c.At));
        On<LegalHoldPlaced>((e, c) => c.Sql("insert into holds (channel_id) values ($1) on conflict do nothing", e.ChannelId));
        On<LegalHoldLifted>((e, c) => c.Sql("delete from holds where channel_id = $1", e.ChannelId));
    }
}
