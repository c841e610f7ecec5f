using Microsoft.Extensions.Configuration;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>
/// The <c>Notifications</c> section (docs/operations.md): whether a node runs the notification worker, the digest delay
/// (and least time between two mails to a person) for people who did not choose one, how often due digests are looked
/// for, how old a message may be and still be mailed (a new worker folds the whole log but mails only recent posts), and
/// how long the worker lets new posts gather before it reads them (one read and one commit per window, not per post).
/// </summary>
public sealed record NotificationSettings(bool Enabled, TimeSpan DefaultDigest, TimeSpan PollInterval, TimeSpan MaxAge, TimeSpan Gather)
{
    public static NotificationSettings Read(IConfiguration configuration)
    {
        var section = configuration.GetSection("Notifications");
        return new NotificationSettings(
            Enabled: section.GetValue("Enabled", true),
            DefaultDigest: TimeSpan.FromSeconds(section.GetValue("DigestSeconds", 600)),
            PollInterval: TimeSpan.FromMilliseconds(section.GetValue("PollMilliseconds", 1000)),
            MaxAge: TimeSpan.FromHours(section.GetValue("MaxAgeHours", 24)),
            Gather: TimeSpan.FromMilliseconds(section.GetValue("GatherMilliseconds", 250)));
    }

    /// <summary>The digest delay of a person: their own (minutes) or the default.</summary>
    public TimeSpan DigestOf(int digestMinutes) => digestMinutes > 0 ? TimeSpan.FromMinutes(digestMinutes) : DefaultDigest;
}
