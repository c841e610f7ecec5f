using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
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
/// <para>Files: <c>file_names</c> holds the names of the files the message carries (one per line, empty when none) and
/// <c>has_image</c> whether one of them is an image (<see cref="FileTypes.ShowsInline"/>: PNG, JPEG, GIF, WebP), for
/// <c>has:file</c> and <c>has:image</c>. The names are found like the text: <c>files_tsv</c> is generated from them with
/// ASCII punctuation turned into spaces (<c>quarterly-report_2024.pdf</c> gives the words quarterly, report, 2024,
/// pdf), and a trigram index serves substrings. The columns are added by <c>alter table ... if not exists</c>, so a
/// database indexed by an older build gets them empty; <c>chatctl projections rebuild search</c> fills them.</para>
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
        do $$
        begin
            -- Checked first: alter table locks the table exclusively even when the columns are there (at every start).
            if not exists (select 1 from information_schema.columns
                            where table_schema = current_schema() and table_name = 'messages' and column_name = 'files_tsv') then
                alter table messages add column if not exists file_names text not null default '';
                alter table messages add column if not exists has_image boolean not null default false;
                alter table messages add column files_tsv tsvector generated always as
                    (to_tsvector('{TextSearchConfig}'::regconfig, regexp_replace(file_names, '[[:punct:][:space:]]+', ' ', 'g'))) stored;
            end if;
        end $$;
        create index if not exists messages_files_tsv on messages using gin (files_tsv) where file_names <> '';
        create index if not exists messages_file_names_trgm on messages using gin (file_names gin_trgm_ops) where file_names <> '';
        create index if not exists messages_files_created on messages (created_at desc) where file_names <> '';
        create index if not exists messages_images_created on messages (created_at desc) where has_image;
        """;

    private static readonly RowStatement Posted = new("""
        insert into messages (channel_id, seq, user_id, thread_root_seq, text, created_at, file_names, has_image)
        select channel_id, seq, user_id, thread_root_seq, text, created_at, file_names, has_image from {rows}
        on conflict (channel_id, seq) do nothing
        """, ("channel_id", "text"), ("seq", "bigint"), ("user_id", "text"), ("thread_root_seq", "bigint"), ("text", "text"),
        ("created_at", "timestamptz"), ("file_names", "text"), ("has_image", "boolean"));

    /// <summary>The names of a post's files, one per line (empty when none): what <c>file_names</c> holds.</summary>
    public static string FileNames(IReadOnlyList<SharedFile>? files) =>
        files is null ? "" : string.Join('\n', files.Select(f => f.Name.ReplaceLineEndings(" ")));

    /// <summary>Whether a post carries an image that <c>has:image</c> finds.</summary>
    public static bool HasImage(IReadOnlyList<SharedFile>? files) => files?.Any(f => FileTypes.ShowsInline(f.ContentType)) ?? false;

    public SearchProjection()
    {
        On<MessagePosted>((e, c) => c.Row(Posted, e.ChannelId, c.Seq, e.UserId, e.ThreadRootSeq, MessageText.Plain(e.Text), c.At,
            FileNames(e.Files), HasImage(e.Files)));
        On<MessageEdited>((e, c) => c.Sql(
            "update messages set text = $3, edited_at = $4 where channel_id = $1 and seq = $2",
            e.ChannelId, e.Seq, MessageText.Plain(e.Text), c.At));
        On<MessageDeleted>((e, c) => c.Sql("delete from messages where channel_id = $1 and seq = $2", e.ChannelId, e.Seq));
    }
}
