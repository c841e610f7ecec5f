using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Messages;

/// <param name="Files">Ids of files the author uploaded (<c>POST /v1/files</c>) to attach: see <see cref="AttachFiles"/>.</param>
public sealed record PostMessage(string? Text, string? ClientMsgId, long? ThreadRootSeq, IReadOnlyList<string>? Files = null);

public sealed record MessagePostedResponse(string ChannelId, long Seq, long Position, DateTimeOffset CreatedAt);

public static class PostMessageEndpoint
{
    public const int MaxClientMsgIdLength = 100;

    /// <summary>Who may post here at all: a member of a live channel they see. Checked before a repeated send is answered.</summary>
    public static void EnsureMayPost(WorkspaceState workspace, ChannelState channel, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        ChannelRules.EnsureMember(channel, actorId);
        ChannelRules.EnsureNotArchived(channel);
    }

    /// <summary>
    /// A member posts to a live channel; a reply names a top-level message of the same channel; the files it carries are
    /// the author's uploads in the channel's workspace (<paramref name="files"/>: the rows of those it names).
    /// </summary>
    public static MessagePosted Decide(WorkspaceState workspace, ChannelState channel, PostMessage command, string messageId, string actorId,
        IReadOnlyList<FileRow>? files = null, int maxFiles = 10)
    {
        EnsureMayPost(workspace, channel, actorId);
        // A post carrying files may have no text (a file whose names are refused is refused below all the same).
        var text = command.Files is { Count: > 0 } ? MessageRules.ValidTextBesideFiles(command.Text) : MessageRules.ValidText(command.Text);
        if (command.ThreadRootSeq is { } rootSeq && channel.Message(rootSeq) is not { IsTopLevel: true, Deleted: false })
        {
            throw CommandRejected.Invalid("threadRootSeq must name a top-level message of this channel.");
        }
        var shared = AttachFiles.Decide(command.Files, files ?? [], channel.WorkspaceId, actorId, maxFiles);
        return new MessagePosted(channel.ChannelId, messageId, actorId, text, command.ThreadRootSeq, MessageRules.ParseMentions(text), shared);
    }

    public static RouteGroupBuilder MapPostMessage(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/messages", Handle).WithName("PostMessage")
            .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Results<Created<MessagePostedResponse>, Ok<MessagePostedResponse>>> Handle(
        string channelId, PostMessage command, HttpContext http, PostGroups posts, ChatEventStore store, FileSettings fileLimits, CancellationToken ct)
    {
        var actor = Actor.From(http);
        if (command.ClientMsgId is { Length: 0 or > MaxClientMsgIdLength })
        {
            throw CommandRejected.Invalid($"clientMsgId has 1 to {MaxClientMsgIdLength} characters.");
        }
        // The client's id becomes the event id, per author and channel, so a retried send is stored once, and the same
        // id from another author is another message.
        Guid? eventId = command.ClientMsgId is { } clientId
            ? Ids.DeterministicGuid(Ids.ChannelStream(channelId), $"{actor.UserId}\n{clientId}")
            : null;
        // Read before the group's transaction; it marks them attached and refuses the post if one went meanwhile.
        var files = AttachFiles.Wanted(command.Files) is { Length: > 0 } wanted ? await FileTable.LoadAsync(store.DataSource, wanted, ct) : [];

        // Posts to one channel are committed in groups (PostGroups): answered once their group's transaction committed.
        var result = await posts.PostAsync(channelId,
            new PostItem(actor, command, eventId, PostgresEventStore.CurrentTraceParent(), files, fileLimits.MaxFilesPerMessage));
        var response = new MessagePostedResponse(channelId, result.Version, result.Position, result.CreatedAt);
        return result.Duplicate
            ? TypedResults.Ok(response)
            : TypedResults.Created($"/v1/channels/{channelId}/messages/{result.Version}", response);
    }
}
