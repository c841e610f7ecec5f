namespace EventSourcedChat.ReadModels.Infrastructure;

/// <summary>
/// Current presence of users for the REST views (<c>GET /v1/users/{id}</c>, channel members): <c>active</c>, <c>away</c>,
/// <c>offline</c>, or <c>unknown</c> when the presence store does not answer. The host registers the one it serves.
/// </summary>
public interface IPresenceReader
{
    Task<IReadOnlyDictionary<string, string>> ReadAsync(IReadOnlyCollection<string> userIds);
}

/// <summary>For a host without a presence store: everyone reads as <c>unknown</c>.</summary>
public sealed class NoPresence : IPresenceReader
{
    public const string Unknown = "unknown";

    public Task<IReadOnlyDictionary<string, string>> ReadAsync(IReadOnlyCollection<string> userIds) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(userIds.Distinct(StringComparer.Ordinal).ToDictionary(u => u, _ => Unknown, StringComparer.Ordinal));
}
