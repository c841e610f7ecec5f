namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// What a password must be: 8 to 256 characters, not one of the passwords attackers try first, and not the account's
/// own email address.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 8;
    public const int MaxLength = 256;

    // The passwords that head every published list of leaked passwords, at 8 characters or more (shorter ones are
    // refused by length already), compared case-insensitively.
    private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "password1", "password12", "password123", "password!", "passw0rd", "p@ssw0rd", "p@ssword",
        "12345678", "123456789", "1234567890", "0123456789", "87654321", "11111111", "00000000", "12341234",
        "qwertyui", "qwerty12", "qwerty123", "qwertyuiop", "1q2w3e4r", "1qaz2wsx", "zaq12wsx", "asdfghjk",
        "asdf1234", "abcd1234", "abc12345", "abcdefgh", "iloveyou", "sunshine", "princess", "football",
        "baseball", "superman", "starwars", "whatever", "trustno1", "letmein1", "welcome1", "welcome123",
        "changeme", "admin123", "administrator", "computer", "internet", "michelle", "jennifer", "charlie1",
        "master12", "dragon12", "monkey12", "shadow12", "123qweasd", "qweasdzxc", "11223344", "a1b2c3d4",
    };

    /// <summary>The reason the password is refused, or null when it is acceptable.</summary>
    public static string? Problem(string? password, string? email)
    {
        if (password is null || password.Length is < MinLength or > MaxLength)
        {
            return $"A password has {MinLength} to {MaxLength} characters.";
        }
        if (Common.Contains(password) || password.Distinct().Count() == 1)
        {
            return "This password is among the most common ones; choose another.";
        }
        if (email is not null && string.Equals(password.Trim(), email.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return "A password cannot be the email address.";
        }
        return null;
    }
}
