using System.Security.Cryptography;
using System.Text;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;

namespace EventSourcedChat.Commands.Invites;

/// <summary>
/// An invite's code, what its link carries: <c>{inviteId}.{secret}</c>, the secret 32 random bytes in base64url. Only the
/// secret's SHA-256 is stored (in the event and the write side), as for a password reset link.
/// </summary>
public static class InviteCodes
{
    public const int MaxLength = 200;

    public static (string Code, string Hash) New(string inviteId)
    {
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return ($"{inviteId}.{secret}", PasswordResetEndpoint.HashOf(secret));
    }

    /// <summary>The invite id and secret of a code; false for anything that cannot be one.</summary>
    public static bool TryParse(string? code, out string inviteId, out string secret)
    {
        (inviteId, secret) = ("", "");
        var dot = code?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (code is null || code.Length > MaxLength || dot < 0 || !Ids.IsValid(code[..dot]) || dot == code.Length - 1)
        {
            return false;
        }
        (inviteId, secret) = (code[..dot], code[(dot + 1)..]);
        return true;
    }

    /// <summary>Whether <paramref name="secret"/> is the one whose hash is stored (in constant time).</summary>
    public static bool Matches(string codeHash, string secret) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(codeHash), Encoding.ASCII.GetBytes(PasswordResetEndpoint.HashOf(secret)));

    /// <summary>The link a person follows: the web client's join page with the code.</summary>
    public static string Link(string publicUrl, string code) => $"{publicUrl}/invite?code={Uri.EscapeDataString(code)}";
}
