using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.Workspaces;

/// <summary>An invite as its workspace's admins see it (never its link: only the hash of its secret was ever stored).</summary>
/// <param name="Email">The address it was mailed to; null for a shareable link.</param>
/// <param name="State"><c>active</c>, <c>revoked</c>, <c>expired</c> or <c>used_up</c>, as of the request.</param>
public sealed record InviteView(
    string InviteId, string? Email, int MaxUses, int Uses, DateTimeOffset ExpiresAt, string CreatedBy, DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt, string State);

/// <summary>
/// <c>GET /v1/workspaces/{workspaceId}/invites?limit=&amp;cursor=</c>: the workspace's invites, newest first (invite ids
/// are time-ordered), for its admins (a member 403, anyone else 404); paged as <see cref="Paging"/> says.
/// </summary>
public static class InviteQueries
{
    public static RouteGroupBuilder MapInviteQueries(this RouteGroupBuilder group)
    {
        group.MapGroup("").WaitsFor(ChannelAccess.Directory)
            .MapGet("/workspaces/{workspaceId}/invites", HandleAsync).WithName("ListInvites").Produces<List<InviteView>>();
        return group;
    }

    private static async Task<IResult> HandleAsync(string workspaceId, HttpContext http, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        if (!Paging.TryRead(http, 1, out var limit, out var after, out var error))
        {
            return QueryActor.Invalid(error);
        }
        var role = await WorkspaceMembership.RoleOfAsync(db, workspaceId, QueryActor.UserId(http), ct);
        if (role is null)
        {
            return QueryActor.NotFound("The workspace");
        }
        if (role != "admin")
        {
            return QueryActor.Forbidden("Only workspace admins see the invites.");
        }
        await using var cmd = db.CreateCommand($"""
            select invite_id, email, max_uses, uses, expires_at, created_by, created_at, revoked_at
              from rm_directory.invites
             where workspace_id = $1 {(after is null ? "" : "and invite_id < $3")}
             order by invite_id desc limit $2
            """);
        cmd.Parameters.AddWithValue(workspaceId);
        cmd.Parameters.AddWithValue(limit + 1);
        if (after is [var last])
        {
            cmd.Parameters.AddWithValue(last);
        }
        var now = clock.GetUtcNow();
        var invites = new List<InviteView>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var (maxUses, uses, expiresAt) = (r.GetInt32(2), r.GetInt32(3), r.GetFieldValue<DateTimeOffset>(4));
                DateTimeOffset? revokedAt = r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7);
                var state = revokedAt is not null ? "revoked" : expiresAt <= now ? "expired" : uses >= maxUses ? "used_up" : "active";
                invites.Add(new InviteView(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), maxUses, uses, expiresAt, r.GetString(5),
                    r.GetFieldValue<DateTimeOffset>(6), revokedAt, state));
            }
        }
        if (invites.Count > limit)
        {
            invites.RemoveRange(limit, invites.Count - limit);
            Paging.SetNext(http, Paging.Encode(invites[^1].InviteId));
        }
        return Results.Ok(invites);
    }
}
