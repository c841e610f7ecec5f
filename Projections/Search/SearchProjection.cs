using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Messages;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.Projections.Search;

/// <summary>
/// Message search: one row per live message, top-level or reply, keyed by <c>(channel_id, seq)</c>. Edits replace the
/// text, deletes remove the row (the original stays in the log for auditors, never in search). The row's <c>text</c> is
/// the plain-text form of the message (<see cref="MessageText.Plain"/>): the Markdown markup is not searchable, the
/// words inside it are.
/// </summary>
/// <remarks>
/// <para><c>tsv</c> is generated from the text with the <c>english</c> configuration (stemming and stop words:
/// "deploying" finds "deployed"), so edits move it with the text and it can never disagree with it. Words it cannot
/// tokenise usefully (CJK runs without spaces, fragments of words, punctuation) are found through the trigram index
/// on <c>text</c> (<c>pg_trgm</c>, created by migration 0004) with <c>ILIKE</c>.</para>
/// <para>The workspace is not in message events; queries take it from <c>rm_directory.channels</c>, which they join
/// anyway for membership.</para>
/// </remarks>
public sealed class SearchProjection : Projection
{
    public const string ProjectionName = "search";

    /// <summary>The checkpoint that queries reading <c>rm_search</c> wait for.</summary>
    public static readonly string Checkpoint = CheckpointOf(ProjectionName);

    /// <summary>The text search configuration of <c>tsv</c>; queries must build their tsquery with the same one.</summary>
    public const string TextSearchConfig = "english";

    public override string Name => ProjectionName;

    public override string CreateSql => $"""
        create table if not exists messages (
            channel_id text not null, seq bigint not null, user_id text not null, thread_root_seq bigint,
            text text not null, created_at timestamptz not null, edited_at timestamptz,
            tsv tsvector generated always as (to_tsvector('{TextSearchConfig}'::regconfig, text)) stored,
            primary key (channel_id, seq));
        create index if not exists messages_tsv on messages using gin (tsv);
        create index if not exists messages_text_trgm on messages using gin (text gin_trgm_ops);
        create index if not exists messages_channel_created on messages (channel_id, created_at desc);
        create index if not exists messages_created on messages (created_at desc);
        create index if not exists messages_user_created on messages (user_id, created_at desc);
        """;

    private static readonly RowStatement Posted = new("""
        insert into messages (channel_id, seq, user_id, thread_root_seq, text, created_at)
        select channel_id, seq, user_id, thread_root_seq, text, created_at from {rows}
        on conflict (channel_id, seq) do nothing
        """, ("channel_id", "text"), ("seq", "bigint"), ("user_id", "text"), ("thread_root_seq", "bigint"), ("text", "text"),
        ("created_at", "timestamptz"));

    public SearchProjection()
    {
        On<MessagePosted>((e, c) => c.Row(Posted, e.ChannelId, c.Seq, e.UserId, e.ThreadRootSeq, MessageText.Plain(e.Text), c.At));
        On<MessageEdited>((e, c) => c.Sql(
            "update messages set text = $3, edited_at = $4 where channel_id = $1 and seq = $2",
            e.ChannelId, e.Seq, MessageText.Plain(e.Text), c.At));
        On<MessageDeleted>((e, c) => c.Sql("delete from messages where channel_id = $1 and seq = $2", e.ChannelId, e.Seq));
    }
}
