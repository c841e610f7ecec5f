using System.Reflection;
using EventSourcedChat.Gateway.Realtime;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// The fuzzer's and the authorization matrix's lists are checked against the running app: every route of its route
/// table (<see cref="EndpointDataSource"/>, as <c>METHOD pattern</c>) and every method of its hub must be covered by
/// both, or excluded here with a reason; and neither may list a route or method the app does not have.
/// </summary>
public sealed class EndpointCoverage(PostgresFixture db) : SecurityTest(db)
{
    /// <summary>Routes the fuzzer does not send input to, each with why it does not apply.</summary>
    private static readonly Dictionary<string, string> NotFuzzed = new()
    {
        ["* /health/live"] = "reads no input: no route value, query string or body; the matrix covers who may call it",
        ["* /health/ready"] = "reads no input: no route value, query string or body; the matrix covers who may call it",
    };

    /// <summary>Routes the matrix does not call, each with why it does not apply.</summary>
    private static readonly Dictionary<string, string> NotInMatrix = new();

    /// <summary>The running app's routes: <c>METHOD pattern</c>, <c>*</c> for a route that answers any method.</summary>
    private List<string> AppRoutes() =>
    [
        .. Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(method => $"{method} {Pattern(e.RoutePattern.RawText!)}"))
            .Distinct().Order(StringComparer.Ordinal),
    ];

    /// <summary>A group's empty route leaves a trailing slash (<c>/v1/search/</c>): the router matches it without.</summary>
    private static string Pattern(string raw) => raw.Length > 1 ? raw.TrimEnd('/') : raw;

    /// <summary>A case on <c>GET /p</c> covers the app's <c>GET /p</c>, and <c>* /p</c> (any method).</summary>
    private static bool Covers(string covered, string route) =>
        covered == route || (route.StartsWith("* ", StringComparison.Ordinal) && covered.Split(' ', 2)[1] == route[2..]);

    /// <summary>The hub methods a client may invoke: its public methods, less the connection events of <see cref="Hub"/>.</summary>
    private static List<string> HubMethods() =>
    [
        .. typeof(ChatHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType == typeof(ChatHub)) // not an override of Hub's
            .Select(m => m.Name).Order(StringComparer.Ordinal),
    ];

    private static void AssertCovers(string who, IReadOnlyCollection<string> routes, IEnumerable<string> covered, Dictionary<string, string> excluded)
    {
        var cases = covered.Distinct().ToList();
        var missing = routes.Where(r => !excluded.ContainsKey(r) && !cases.Any(c => Covers(c, r))).ToList();
        var unknown = cases.Where(c => !routes.Any(r => Covers(c, r))).ToList();
        var staleExclusions = excluded.Keys.Where(r => !routes.Contains(r) || cases.Any(c => Covers(c, r))).ToList();
        Assert.True(missing.Count == 0 && unknown.Count == 0 && staleExclusions.Count == 0,
            $"{who}: " +
            (missing.Count == 0 ? "" : $"routes or hub methods of the app it does not cover: {string.Join(", ", missing)}. ") +
            (unknown.Count == 0 ? "" : $"cases keyed by nothing the app has: {string.Join(", ", unknown)}. ") +
            (staleExclusions.Count == 0 ? "" : $"exclusions of no route, or of a covered one: {string.Join(", ", staleExclusions)}. ") +
            $"The app has: {string.Join(", ", routes)}");
    }

    [Fact]
    public void The_fuzzer_covers_every_route_of_the_app()
    {
        var fuzzed = FuzzTargets.Commands(World, World.Public, "", "").Select(c => c.Key)
            .Concat(FuzzTargets.Queries(World, "", "").Select(q => q.Key))
            .Concat(FuzzTargets.AdminRoutes)
            .Concat(FuzzTargets.MemberRoutes)
            .Concat(FuzzTargets.ObjectRoutes)
            .Append(FuzzTargets.HubRoute);
        AssertCovers("the fuzzer", AppRoutes(), fuzzed, NotFuzzed);
    }

    [Fact]
    public void The_authorization_matrix_covers_every_route_of_the_app() =>
        AssertCovers("the authorization matrix", AppRoutes(), AuthorizationMatrix.Routes, NotInMatrix);

    [Fact]
    public void The_fuzzer_and_the_matrix_cover_every_hub_method()
    {
        var methods = HubMethods();
        Assert.NotEmpty(methods);
        AssertCovers("the fuzzer's hub test", methods, FuzzTargets.HubMethods(World, "", "").Select(m => m.Method), []);
        AssertCovers("the authorization matrix's hub cells", methods, AuthorizationMatrix.HubMethodNames, []);
    }

    [Fact]
    public void What_the_server_calls_on_clients_is_what_the_test_clients_record()
    {
        // The matrix proves "nothing pushed" with HubClient, which records one client method: a second one would go unseen.
        var clientMethods = typeof(IChatClient).GetMethods().Select(m => m.Name.ToLowerInvariant()).ToList();
        Assert.Equal([HubClient.EventTarget], clientMethods);
    }
}
