using System.Text;
using EventSourcedChat.Projections.Search;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.ReadModels.Search;

/// <summary>
/// Search on <c>rm_search.messages</c>, joined to <c>rm_directory</c> for the caller's channels in the workspace.
/// </summary>
/// <remarks>
/// A plain word query (letters, digits and spaces, no CJK) goes to full-text search first:
/// <c>websearch_to_tsquery('english', q)</c> against the GIN-indexed <c>tsv</c>, ranked by <c>ts_rank</c>, highlighted
/// by <c>ts_headline</c>. Any other query, and a plain one the full-text search finds nothing for (a fragment of a
/// word, only stop words), is a case-insensitive substring match (<c>ILIKE</c> with <c>%</c>, <c>_</c> and <c>\</c>
/// escaped, served by the trigram index), ranked by <c>word_similarity</c>. Ties go to the newest. Full-text ranks only
/// the newest <see cref="CandidateLimit"/> matches in the caller's channels, a substring search the newest
/// <see cref="SubstringCandidateLimit"/>: the planner finds them either through the text index (rare words) or by
/// walking <c>created_at</c> backwards (common words), so the cost stays bounded.
/// </remarks>
public sealed class PostgresMessageSearch(NpgsqlDataSource db, int substringCandidates = PostgresMessageSearch.SubstringCandidateLimit)
    : IMessageSearch
{
    private const string Config = SearchProjection.TextSearchConfig;

    /// <summary>
    /// Ranking looks at the newest this-many matches only, so a word found in a large share of the messages costs a
    /// bounded amount (at most this many rows ranked); older matches are reached with <c>before</c>.
    /// </summary>
    public const int CandidateLimit = 2_000;

    /// <summary>
    /// The same bound for substring searches, lower: a fragment common in many words (<c>atab</c> in every
    /// "database") matches far more rows than a word does, and the trigram index cannot tell which of them are the
    /// newest, so a bound of 2,000 had PostgreSQL fetch and sort every match (bench/Search.Bench).
    /// </summary>
    public const int SubstringCandidateLimit = 200;

    private static readonly string HeadlineOptions =
        $"StartSel=\"{Highlighter.StartSentinel}\", StopSel=\"{Highlighter.StopSentinel}\", MaxWords=35, MinWords=15";

    public async Task<SearchResults> SearchAsync(SearchQuery query, string userId, CancellationToken ct)
    {
        if (query.Text.Length == 0)
        {
            return await FilteredAsync(query, userId, ct);
        }
        if (IsPlainWords(query.Text))
        {
            var found = await FullTextAsync(query, userId, ct);
            if (found.Results.Count > 0)
            {
                return found;
            }
        }
        return await SubstringAsync(query, userId, ct);
    }

    /// <summary>Letters (with their combining marks), digits and white space only, and no script written without spaces between words.</summary>
    public static bool IsPlainWords(string q) =>
        q.All(c => (char.IsLetterOrDigit(c) || char.IsWhiteSpace(c) || IsMark(c)) && !IsUnspacedScript(c));

    private static bool IsMark(char c) => char.GetUnicodeCategory(c) is
        System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark;

    /// <summary>CJK ideographs, kana, Hangul, Thai, Lao, Khmer, Myanmar: word boundaries are not spaces there.</summary>
    public static bool IsUnspacedScript(char c) => c switch
    {
        >= '\u0E00' and <= '\u0EFF' => true, // Thai, Lao
        >= '\u1000' and <= '\u109F' => true, // Myanmar
        >= '\u1780' and <= '\u17FF' => true, // Khmer
        >= '\u1100' and <= '\u11FF' => true, // Hangul Jamo
        >= '\u2E80' and <= '\u9FFF' => true, // CJK radicals, kana, Hangul compatibility, CJK ideographs
        >= '\uA960' and <= '\uA97F' => true, // Hangul Jamo extended
        >= '\uAC00' and <= '\uD7FF' => true, // Hangul syllables
        >= '\uF900' and <= '\uFAFF' => true, // CJK compatibility ideographs
        >= '\uFF00' and <= '\uFFEF' => true, // half- and full-width forms
        _ => char.IsSurrogate(c),          // supplementary planes (CJK extensions among them)
    };

    /// <summary><paramref name="q"/> as an ILIKE pattern matching it anywhere, literally.</summary>
    public static string ContainsPattern(string q)
    {
        var sb = new StringBuilder(q.Length + 8).Append('%');
        foreach (var c in q)
        {
            if (c is '\\' or '%' or '_')
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.Append('%').ToString();
    }

    private async Task<SearchResults> FullTextAsync(SearchQuery query, string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand();
        var filters = Filters(cmd, query);
        var q = Add(cmd, query.Text, NpgsqlDbType.Text);
        var options = Add(cmd, HeadlineOptions, NpgsqlDbType.Text);
        var limit = Add(cmd, query.Limit + 1, NpgsqlDbType.Integer);
        // The headline only for the page (it parses the whole text): over the HTML-escaped text, so the only markup
        // in it is the sentinels put around matches, which the highlighter turns into <mark>.
        cmd.CommandText = $"""
            {MyChannels(query, userId, cmd)},
            candidates as materialized (
                select s.channel_id, s.seq, s.text, s.user_id, s.created_at, s.tsv || s.files_tsv as tsv, s.file_names
                  from rm_search.messages s
                 where (s.tsv @@ websearch_to_tsquery('{Config}', {q})
                        or (s.file_names <> '' and s.files_tsv @@ websearch_to_tsquery('{Config}', {q})))
                   and {filters}
                 order by s.created_at desc
                 limit {CandidateLimit})
            select h.channel_id, h.seq, h.text, h.user_id, h.created_at,
                   ts_headline('{Config}', {EscapedSql(WithFileNames("h"))}, websearch_to_tsquery('{Config}', {q}), {options}), h.file_names
              from (select channel_id, seq, text, user_id, created_at, file_names, ts_rank(tsv, websearch_to_tsquery('{Config}', {q})) as rank
                      from candidates
                     order by rank desc, created_at desc, channel_id, seq desc
                     limit {limit}) h
             order by h.rank desc, h.created_at desc, h.channel_id, h.seq desc
            """;
        return await ReadAsync(cmd, query.Limit, r => Highlighter.FullText(Highlighter.FromHeadline(r.GetString(5)), r.GetString(6), query.Text), ct);
    }

    private async Task<SearchResults> SubstringAsync(SearchQuery query, string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand();
        var filters = Filters(cmd, query);
        var pattern = Add(cmd, ContainsPattern(query.Text), NpgsqlDbType.Text);
        var q = Add(cmd, query.Text, NpgsqlDbType.Text);
        var limit = Add(cmd, query.Limit + 1, NpgsqlDbType.Integer);
        cmd.CommandText = $"""
            {MyChannels(query, userId, cmd)},
            candidates as materialized (
                select s.channel_id, s.seq, s.text, s.user_id, s.created_at, s.file_names
                  from rm_search.messages s
                 where (s.text ilike {pattern} or (s.file_names <> '' and s.file_names ilike {pattern})) and {filters}
                 order by s.created_at desc
                 limit {substringCandidates})
            select channel_id, seq, text, user_id, created_at, file_names
              from candidates
             order by greatest(word_similarity({q}, text), word_similarity({q}, file_names)) desc, created_at desc, channel_id, seq desc
             limit {limit}
            """;
        return await ReadAsync(cmd, query.Limit, r => Highlighter.Substring(r.GetString(2), r.GetString(5), query.Text), ct);
    }

    /// <summary>
    /// A query of operators only (<c>has:image</c>, <c>in:...</c>): the messages passing the filters, newest first,
    /// each highlighted as the start of its text (with its file names when it has no text to show).
    /// </summary>
    private async Task<SearchResults> FilteredAsync(SearchQuery query, string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand();
        var filters = Filters(cmd, query);
        var limit = Add(cmd, query.Limit + 1, NpgsqlDbType.Integer);
        cmd.CommandText = $"""
            {MyChannels(query, userId, cmd)}
            select s.channel_id, s.seq, s.text, s.user_id, s.created_at, s.file_names
              from rm_search.messages s
             where {filters}
             order by s.created_at desc, s.channel_id, s.seq desc
             limit {limit}
            """;
        return await ReadAsync(cmd, query.Limit, r => Highlighter.Excerpt(r.GetString(2).Length > 0 ? r.GetString(2) : r.GetString(5)), ct);
    }

    /// <summary>SQL of a row's text followed by its file names (one per line), what full-text highlights are cut from.</summary>
    private static string WithFileNames(string alias) =>
        $"case when {alias}.file_names = '' then {alias}.text else {alias}.text || E'\\n' || {alias}.file_names end";

    /// <summary>
    /// The caller's channels in the workspace now (invariant 8), as the CTE <c>mine</c>. Materialized, so the planner
    /// scans the text index once and hash-joins the channels, instead of probing the index once per channel.
    /// </summary>
    private static string MyChannels(SearchQuery query, string userId, NpgsqlCommand cmd) => $"""
        with mine as materialized (
            select m.channel_id
              from rm_directory.channel_members m
              join rm_directory.channels c on c.channel_id = m.channel_id
             where m.user_id = {Add(cmd, userId, NpgsqlDbType.Text)} and c.workspace_id = {Add(cmd, query.WorkspaceId, NpgsqlDbType.Text)})
        """;

    /// <summary>Membership (through <c>mine</c>) and the optional filters, as SQL over s.</summary>
    private static string Filters(NpgsqlCommand cmd, SearchQuery query)
    {
        var where = new List<string> { "s.channel_id in (select channel_id from mine)" };
        if (query.ChannelId is { } channel)
        {
            where.Add($"s.channel_id = {Add(cmd, channel, NpgsqlDbType.Text)}");
        }
        if (query.FromUserId is { } from)
        {
            where.Add($"s.user_id = {Add(cmd, from, NpgsqlDbType.Text)}");
        }
        if (query.Before is { } before)
        {
            where.Add($"s.created_at < {Add(cmd, before.ToUniversalTime(), NpgsqlDbType.TimestampTz)}");
        }
        if (query.HasFile)
        {
            where.Add("s.file_names <> ''");
        }
        if (query.HasImage)
        {
            where.Add("s.has_image");
        }
        if (query.After is { } after)
        {
            where.Add($"s.created_at > {Add(cmd, after.ToUniversalTime(), NpgsqlDbType.TimestampTz)}");
        }
        return string.Join(" and ", where);
    }

    /// <summary>Adds a positional parameter and answers its placeholder.</summary>
    private static string Add(NpgsqlCommand cmd, object value, NpgsqlDbType type)
    {
        cmd.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        return "$" + cmd.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>SQL escaping the text as HTML (as <see cref="Highlighter.Escape"/>) and dropping the sentinels.</summary>
    private static string EscapedSql(string column) =>
        $"replace(replace(replace(replace(replace(translate({column}, E'\\uE000\\uE001', ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;'), '''', '&#39;')";

    private static async Task<SearchResults> ReadAsync(NpgsqlCommand cmd, int limit, Func<NpgsqlDataReader, string> highlight, CancellationToken ct)
    {
        var hits = new List<SearchHit>(limit + 1);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            hits.Add(new SearchHit(r.GetString(0), r.GetInt64(1), r.GetString(2), highlight(r), r.GetString(3),
                r.GetFieldValue<DateTimeOffset>(4)));
        }
        var hasMore = hits.Count > limit;
        return new SearchResults(hasMore ? hits[..limit] : hits, hasMore);
    }
}
