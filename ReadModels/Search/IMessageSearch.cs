namespace EventSourcedChat.ReadModels.Search;

/// <summary>
/// What to look for. <see cref="Text"/> is what is left of <c>q</c> once its operators are taken out
/// (<see cref="SearchOperators"/>), trimmed; empty when <c>q</c> held operators only, which then lists the messages that
/// pass the filters, newest first. Bounds are exclusive. <see cref="HasFile"/>: only messages carrying a file;
/// <see cref="HasImage"/>: only messages carrying an image (PNG, JPEG, GIF or WebP).
/// </summary>
public sealed record SearchQuery(
    string WorkspaceId, string Text, string? ChannelId, string? FromUserId, DateTimeOffset? Before, DateTimeOffset? After, int Limit,
    bool HasFile = false, bool HasImage = false);

/// <param name="Text">The plain-text form of the message (<c>Contracts.Messages.MessageText.Plain</c>: the Markdown markup removed), which is what was searched.</param>
/// <param name="Highlight">An HTML-safe excerpt of <see cref="Text"/> with the matches in <c>&lt;mark&gt;</c>.</param>
public sealed record SearchHit(string ChannelId, long Seq, string Text, string Highlight, string UserId, DateTimeOffset CreatedAt);

public sealed record SearchResults(IReadOnlyList<SearchHit> Results, bool HasMore);

/// <summary>
/// Message search over the channels the user is a member of now, in the query's workspace. Whether the caller may
/// see the workspace and the channel filter is checked by the endpoint before; an implementation only has to keep to
/// the caller's current channels. PostgreSQL (<see cref="PostgresMessageSearch"/>) is the one today; an Elasticsearch
/// one would filter on the member channels read from the directory.
/// </summary>
public interface IMessageSearch
{
    Task<SearchResults> SearchAsync(SearchQuery query, string userId, CancellationToken ct);
}
