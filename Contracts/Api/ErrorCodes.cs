namespace EventSourcedChat.Contracts.Api;

/// <summary>The stable <c>code</c> of every <c>application/problem+json</c> answer.</summary>
public static class ErrorCodes
{
    public const string InvalidRequest = "invalid_request";
    public const string Unauthenticated = "unauthenticated";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string Conflict = "conflict";
    public const string NameTaken = "name_taken";
    public const string NotInChannel = "not_in_channel";
    public const string ChannelArchived = "channel_archived";
    public const string MessageTooLong = "message_too_long";
    public const string PinLimitReached = "pin_limit_reached";
    public const string WrongPassword = "wrong_password";
    public const string ResetExpired = "reset_expired";
    /// <summary>410: an invite past its expiry.</summary>
    public const string InviteExpired = "invite_expired";
    /// <summary>410: an invite an admin revoked.</summary>
    public const string InviteRevoked = "invite_revoked";
    /// <summary>410: an invite whose uses are all taken (an email invite after its one use).</summary>
    public const string InviteUsedUp = "invite_used_up";
    /// <summary>403: an email invite accepted by an account with another address.</summary>
    public const string InviteEmailMismatch = "invite_email_mismatch";
    /// <summary>409: accepting an invite to a workspace the caller is already in.</summary>
    public const string AlreadyMember = "already_member";
    /// <summary>409: the workspace's last admin may not be removed or leave (make another member admin first).</summary>
    public const string LastAdmin = "last_admin";
    /// <summary>403: the account was deactivated by an instance administrator (signing in is refused).</summary>
    public const string AccountDeactivated = "account_deactivated";
    public const string PayloadTooLarge = "payload_too_large";
    /// <summary>413: the workspace's files would exceed its storage quota.</summary>
    public const string QuotaExceeded = "quota_exceeded";
    public const string RateLimited = "rate_limited";
    public const string Stale = "stale";
    public const string Unavailable = "unavailable";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string Internal = "internal";
}
