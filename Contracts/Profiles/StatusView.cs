namespace EventSourcedChat.Contracts.Profiles;

/// <summary>
/// A custom status as the API and the <c>user.updated</c> push show it: <c>{emoji, text, expiresAt}</c>. Past
/// <see cref="ExpiresAt"/> it is shown as none (computed at read time; clients schedule its disappearance).
/// </summary>
public sealed record StatusView(string Emoji, string Text, DateTimeOffset? ExpiresAt);
