namespace EventSourcedChat.Contracts.Api;

/// <summary>
/// The instance's administrators: the user ids listed in the <c>Admins</c> setting (comma- or space-separated), read by
/// the admin endpoints of the Gateway (projections) and of the write side (deactivating users). There is no role for it
/// in the log: an operator grants it in the deployment's configuration.
/// </summary>
public static class InstanceAdmins
{
    /// <summary>The configuration key.</summary>
    public const string Setting = "Admins";

    public static bool Contains(string? setting, string? userId) =>
        userId is not null && (setting ?? "").Split([',', ' '], StringSplitOptions.RemoveEmptyEntries).Contains(userId, StringComparer.Ordinal);
}
