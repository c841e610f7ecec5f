using System.Reflection;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>Applies every module's migrations before the host starts serving (safe when several nodes start at once).</summary>
internal sealed class MigrationService(Migrator migrator, MigrationAssemblies assemblies, ILogger<MigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var applied = await migrator.ApplyAsync(assemblies.All, cancellationToken);
        foreach (var id in applied)
        {
            logger.LogInformation("Applied migration {Migration}", id);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The assemblies whose embedded <c>Migrations/*.sql</c> the host applies.</summary>
public sealed record MigrationAssemblies(IReadOnlyList<Assembly> All);
