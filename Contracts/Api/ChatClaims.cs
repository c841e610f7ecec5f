namespace EventSourcedChat.Contracts.Api;

/// <summary>The claims of the bearer tokens the write side issues, as every module reads them.</summary>
public static class ChatClaims
{
    /// <summary>The signed-in user's id.</summary>
    public const string UserId = "sub";

    /// <summary>The token's own id, under which it is revoked.</summary>
    public const string TokenId = "jti";
}
