using Spectre.Console;

namespace EventSourcedChat.Cli.Api;

/// <summary>Creating users and workspaces, and granting workspace roles (admin, member, auditor), through the REST API.</summary>
public static class AccountCommands
{
    /// <summary>Registers a user; prints the user id and a token for them.</summary>
    public static async Task<(string UserId, string Token)> CreateUserAsync(
        ChatApi api, IAnsiConsole console, string email, string password, string displayName, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Post, "/v1/auth/register", new { email, password, displayName }, ct);
        var (userId, token) = (answer.GetProperty("userId").GetString()!, answer.GetProperty("token").GetString()!);
        var table = new Table().AddColumns("userId", "token").AddRow(userId, token);
        console.Write(table);
        return (userId, token);
    }

    /// <summary>Creates a workspace (the token's user becomes its admin); prints its id.</summary>
    public static async Task<string> CreateWorkspaceAsync(ChatApi api, IAnsiConsole console, string name, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Post, "/v1/workspaces", new { name }, ct);
        var workspaceId = answer.GetProperty("workspaceId").GetString()!;
        console.WriteLine(workspaceId);
        return workspaceId;
    }

    /// <summary>Adds a user to a workspace or changes their role: <c>auditor</c> grants auditing, <c>member</c> revokes it.</summary>
    public static async Task SetMemberAsync(ChatApi api, IAnsiConsole console, string workspaceId, string userId, string role, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Post, $"/v1/workspaces/{Uri.EscapeDataString(workspaceId)}/members", new { userId, role }, ct);
        console.WriteLine($"{userId} is {role} of {workspaceId} (position {answer.GetProperty("position").GetInt64()})");
    }
}
