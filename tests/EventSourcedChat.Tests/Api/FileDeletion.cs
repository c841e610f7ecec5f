using System.Net;
using System.Text;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Projections.Files;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Deleting a message deletes its files from the store, <c>Files:DeleteDelay</c> after the deletion, unless a channel
/// they were shared in is on legal hold, and only once no live message carries them. The real host, the embedded store
/// and the reaper, asked for a pass as of a chosen instant once the <c>files</c> projection applied the deletion.
/// </summary>
public sealed class FileDeletion(PostgresFixture db) : ApiTest(db)
{
    private static readonly byte[] Bytes = Encoding.ASCII.GetBytes("quarterly numbers\n");

    private LocalObjectStore Store => Host.Services.GetRequiredService<LocalObjectStore>();

    private FileReaper Reaper => Host.Services.GetRequiredService<FileReaper>();

    private TimeSpan Delay => Host.Services.GetRequiredService<FileSettings>().DeleteDelay;

    private sealed record Team(string Ws, string Ch, TestUser Ada);

    private async Task<Team> TeamAsync()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        return new Team(ws, await ChannelAsync(ada, ws), ada);
    }

    private async Task<string> UploadAsync(Team t)
    {
        using var store = Anonymous();
        return (await Uploads.UploadAsync(t.Ada, store, t.Ws, Bytes)).FileId;
    }

    private static async Task<long> PostAsync(TestUser user, string ch, string fileId) =>
        (await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "see attached", files = new[] { fileId } }, HttpStatusCode.Created))
            .GetProperty("seq").GetInt64();

    /// <summary>Deletes the message and waits (bounded) until the <c>files</c> projection applied the deletion.</summary>
    private async Task DeleteAsync(TestUser user, string ch, long seq) =>
        await UntilFilesAsync((await user.Ok("DELETE", $"/v1/channels/{ch}/messages/{seq}")).GetProperty("position").GetInt64());

    private async Task UntilFilesAsync(long position) =>
        await Eventually.Until(() => ReadYourWrites.CaughtUpAsync(Db.DataSource, position, [FileProjection.Checkpoint], default),
            ok => ok, TimeSpan.FromSeconds(20), $"the files projection to reach {position}");

    /// <summary>A reaper pass as of the delay after now and a minute more: whatever was deleted until now is due.</summary>
    private Task<IReadOnlyList<string>> ReapWhenDueAsync() => Reaper.ReapOnceAsync(DateTimeOffset.UtcNow + Delay + TimeSpan.FromMinutes(1), default);

    private bool Stored(string fileId) => File.Exists(Store.PathOf(fileId));

    [Fact]
    public async Task Deleting_a_message_deletes_its_file_after_the_delay_and_the_file_cannot_be_attached_again()
    {
        var t = await TeamAsync();
        var fileId = await UploadAsync(t);
        var kept = await UploadAsync(t);
        await PostAsync(t.Ada, t.Ch, kept);
        var seq = await PostAsync(t.Ada, t.Ch, fileId);
        await DeleteAsync(t.Ada, t.Ch, seq);

        Assert.DoesNotContain(fileId, await Reaper.ReapOnceAsync(DateTimeOffset.UtcNow + Delay - TimeSpan.FromMinutes(1), default));
        Assert.True(Stored(fileId)); // not yet due

        Assert.Contains(fileId, await ReapWhenDueAsync());

        Assert.False(Stored(fileId));
        Assert.True(Stored(kept)); // its message is live
        await t.Ada.Problem("POST", $"/v1/channels/{t.Ch}/messages", new { text = "again", files = new[] { fileId } },
            HttpStatusCode.BadRequest, "invalid_request");
        Assert.DoesNotContain(fileId, await ReapWhenDueAsync()); // done once
    }

    [Fact]
    public async Task A_file_another_live_message_carries_stays_until_that_one_is_deleted_too()
    {
        var t = await TeamAsync();
        var other = await ChannelAsync(t.Ada, t.Ws, "random");
        var fileId = await UploadAsync(t);
        var first = await PostAsync(t.Ada, t.Ch, fileId);
        var second = await PostAsync(t.Ada, other, fileId); // shared again, in another channel
        await DeleteAsync(t.Ada, t.Ch, first);

        Assert.DoesNotContain(fileId, await ReapWhenDueAsync());
        Assert.True(Stored(fileId));

        await DeleteAsync(t.Ada, other, second);

        Assert.Contains(fileId, await ReapWhenDueAsync());
        Assert.False(Stored(fileId));
    }

    [Fact]
    public async Task A_legal_hold_keeps_the_files_and_lifting_it_lets_the_deletion_proceed()
    {
        var t = await TeamAsync();
        var fileId = await UploadAsync(t);
        var seq = await PostAsync(t.Ada, t.Ch, fileId);
        await t.Ada.Ok("POST", $"/v1/channels/{t.Ch}/legal-hold", new { reason = "litigation" });
        await DeleteAsync(t.Ada, t.Ch, seq);

        Assert.DoesNotContain(fileId, await ReapWhenDueAsync());
        Assert.True(Stored(fileId));

        await UntilFilesAsync((await t.Ada.Ok("DELETE", $"/v1/channels/{t.Ch}/legal-hold")).GetProperty("position").GetInt64());

        Assert.Contains(fileId, await ReapWhenDueAsync());
        Assert.False(Stored(fileId));
    }

    [Fact]
    public async Task A_file_posted_again_that_the_projection_has_not_counted_is_not_released()
    {
        var t = await TeamAsync();
        var fileId = await UploadAsync(t);
        await DeleteAsync(t.Ada, t.Ch, await PostAsync(t.Ada, t.Ch, fileId));
        await PostAsync(t.Ada, t.Ch, fileId); // a second attachment, as if the projection had not applied it yet
        var releases = Host.Services.GetRequiredService<IFileReleases>();

        Assert.Equal(FileRelease.SharedAgain, await releases.ReleaseAsync(fileId, attachments: 1, default));
        Assert.Equal(FileRelease.Released, await releases.ReleaseAsync(fileId, attachments: 2, default));
        Assert.Equal(FileRelease.AlreadyReleased, await releases.ReleaseAsync(fileId, attachments: 2, default));
    }
}
