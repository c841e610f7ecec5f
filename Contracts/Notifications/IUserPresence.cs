namespace EventSourcedChat.Contracts.Notifications;

/// <summary>
/// Current presence of users as the notification worker asks for it: <c>active</c>, <c>away</c>, <c>offline</c>, or
/// <c>unknown</c> when the presence store does not answer. The host serves it from the same store as the hub.
/// </summary>
public interface IUserPresence
{
    public const string Active = "active";
    public const string Unknown = "unknown";

    Task<IReadOnlyDictionary<string, string>> ReadAsync(IReadOnlyCollection<string> userIds);
}
