namespace EventSourcedChat.Contracts.Notifications;

/// <summary>
/// The notification worker's names that more than one project uses: its runner name and checkpoint (the admin API,
/// status, lag metrics and health list it beside the projections and the push worker), and the channel levels.
/// </summary>
public static class NotificationNames
{
    /// <summary>The worker's name in <c>projection_status</c>, the admin API and the lag metrics, and its checkpoint.</summary>
    public const string Runner = "notify";

    public const string Checkpoint = "notify";

    public const string LevelAll = "all";
    public const string LevelMentions = "mentions";
    public const string LevelNone = "none";

    public static bool IsLevel(string? level) => level is LevelAll or LevelMentions or LevelNone;
}
