using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Audit;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Audit;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class CreatingWorkspaces
{
    [Fact]
    public void Anyone_creates_a_workspace_and_becomes_its_admin() =>
        Assert.Equal<object>([new WorkspaceCreated(W, "acme", Dave), new WorkspaceMemberAdded(W, Dave, "admin", Dave)],
            CreateWorkspaceEndpoint.Decide(W, new CreateWorkspace(" acme "), Dave));

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public void A_workspace_needs_a_name(string? name) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => CreateWorkspaceEndpoint.Decide(W, new CreateWorkspace(name), Dave)));
}

public class AddingWorkspaceMembers
{
    [Fact]
    public void An_admin_adds_a_registered_user_as_a_member() =>
        Assert.Equal<object>([new WorkspaceMemberAdded(W, Dave, "member", Alice)],
            WorkspaceMembersEndpoints.Decide(Workspace(), userExists: true, adminCount: 1, new AddWorkspaceMember(Dave, null), Alice));

    [Fact]
    public void An_admin_changes_a_role_and_the_same_role_again_changes_nothing()
    {
        Assert.Equal<object>([new WorkspaceMemberAdded(W, Bob, "auditor", Alice)],
            WorkspaceMembersEndpoints.Decide(Workspace(), true, 1, new AddWorkspaceMember(Bob, "auditor"), Alice));
        Assert.Empty(WorkspaceMembersEndpoints.Decide(Workspace(), true, 1, new AddWorkspaceMember(Bob, null), Alice));
    }

    [Fact]
    public void A_member_is_forbidden_and_an_outsider_finds_no_workspace()
    {
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() => WorkspaceMembersEndpoints.Decide(Workspace(), true, 1, new AddWorkspaceMember(Dave, null), Bob)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => WorkspaceMembersEndpoints.Decide(Workspace(), true, 1, new AddWorkspaceMember(Dave, null), Dave)));
    }

    [Fact]
    public void The_last_admin_keeps_the_role_and_one_of_two_admins_may_step_down()
    {
        Assert.Equal(ErrorCodes.LastAdmin, RejectionOf(() => WorkspaceMembersEndpoints.Decide(Workspace(), true, 1, new AddWorkspaceMember(Alice, "member"), Alice)));
        Assert.Equal<object>([new WorkspaceMemberAdded(W, Alice, "member", Alice)],
            WorkspaceMembersEndpoints.Decide(Workspace(), true, 2, new AddWorkspaceMember(Alice, "member"), Alice));
        Assert.Empty(WorkspaceMembersEndpoints.Decide(Workspace(), true, 1, new AddWorkspaceMember(Alice, "admin"), Alice));
    }

    [Fact]
    public void An_unknown_user_is_not_found_and_an_unknown_role_invalid()
    {
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => WorkspaceMembersEndpoints.Decide(Workspace(), false, 1, new AddWorkspaceMember(Dave, null), Alice)));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => WorkspaceMembersEndpoints.Decide(Workspace(), true, 1, new AddWorkspaceMember(Dave, "owner"), Alice)));
    }
}

public class RecordingAuditReads
{
    private static readonly AuditReadRequest Read = new(C, Erin, "corr", "events", 1, 9, null);

    [Theory]
    [InlineData(Erin)]
    [InlineData(Alice)]
    public void An_auditor_or_an_admin_reads_and_the_read_is_recorded(string who)
    {
        var role = Workspace().RoleOf(who);
        Assert.Equal(new ChannelAuditRead(W, C, Erin, "events", 1, 9, null), RecordAuditRead.Decide(W, role, Read));
    }

    [Fact]
    public void A_member_or_an_outsider_may_not_audit()
    {
        Assert.Null(RecordAuditRead.Decide(W, Workspace().RoleOf(Bob), Read));
        Assert.Null(RecordAuditRead.Decide(W, Workspace().RoleOf(Dave), Read));
        Assert.Null(RecordAuditRead.Decide(null, "admin", Read));
    }
}

public class Registering
{
    [Fact]
    public void A_valid_registration_stores_the_lower_case_email_and_the_hash() =>
        Assert.Equal(new UserRegistered(Dave, "dave@example.com", "Dave", "hashed"),
            RegisterEndpoint.Decide(Dave, new Register(" Dave@Example.com ", "correct horse battery", " Dave "), _ => "hashed"));

    [Theory]
    [InlineData("not-an-email", "correct horse battery", "Dave")]
    [InlineData("dave@example.com", "short", "Dave")]
    [InlineData("dave@example.com", "correct horse battery", " ")]
    public void Bad_input_is_invalid(string email, string password, string name) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => RegisterEndpoint.Decide(Dave, new Register(email, password, name), _ => "h")));
}
