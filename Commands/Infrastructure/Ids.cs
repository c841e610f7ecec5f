using System.Security.Cryptography;
using System.Text;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Commands.Infrastructure;

public static class Ids
{
    /// <summary>A new id: a time-ordered UUID as 32 hex digits.</summary>
    public static string New() => Guid.CreateVersion7().ToString("N");

    /// <summary>The same id for the same inputs (a DM's channel id from its member set).</summary>
    public static string Deterministic(string scope, string key) =>
        DeterministicGuid(scope, key).ToString("N");

    public static Guid DeterministicGuid(string scope, string key)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{scope}\n{key}"));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50); // version 5-style (name-based)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>Ids in paths are 32 hex digits; anything else cannot name a thing and is simply not found.</summary>
    public static bool IsValid(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    public static string UserStream(string userId) => StreamNames.User(userId);
    public static string WorkspaceStream(string workspaceId) => StreamNames.Workspace(workspaceId);
    public static string ChannelStream(string channelId) => StreamNames.Channel(channelId);
}
