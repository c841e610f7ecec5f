using System.Reflection;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Tests.Infrastructure;

internal static class TestAssemblies
{
    /// <summary>Every assembly that carries migrations, as the host applies them.</summary>
    public static IReadOnlyList<Assembly> Migrations { get; } = [typeof(PostgresEventStore).Assembly, typeof(Commands.CommandsModule).Assembly, typeof(Projections.ProjectionsModule).Assembly];
}
