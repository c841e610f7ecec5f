using System.Collections.Immutable;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// A user stream folded by <see cref="Evolve"/>. A state loaded from the write side (<see cref="UserWriteSide"/>) holds
/// only the read markers a command names.
/// </summary>
/// <param name="ReadMarkers">The last read seq, by channel id.</param>
public sealed record UserState(string UserId, string Email, string DisplayName, long Version, ImmutableDictionary<string, long> ReadMarkers)
{
    public static UserState Initial { get; } = new("", "", "", 0, ImmutableDictionary<string, long>.Empty);

    public bool Exists => Version > 0;

    public long ReadMarkerOf(string channelId) => ReadMarkers.GetValueOrDefault(channelId);

    public static UserState Evolve(UserState state, object @event)
    {
        var s = state with { Version = state.Version + 1 };
        return @event switch
        {
            UserRegistered r => s with { UserId = r.UserId, Email = r.Email, DisplayName = r.DisplayName },
            ReadMarkerMoved m => s with { ReadMarkers = s.ReadMarkers.SetItem(m.ChannelId, m.Seq) },
            _ => throw new UnknownEventException("user", @event),
        };
    }
}
