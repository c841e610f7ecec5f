using EventSourcedChat.Contracts.Files;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Commands.Files;

/// <summary>
/// Deletes files never attached to a message once they expire (<see cref="FileSettings.UnattachedLifetime"/> after the
/// upload was asked for): their row first, then their bytes. Runs on every API node every
/// <see cref="FileSettings.SweepInterval"/>; nodes skip each other's rows (<c>skip locked</c>).
/// </summary>
public sealed class FileSweeper(NpgsqlDataSource db, IObjectStore objects, FileSettings settings, ILogger<FileSweeper> logger) : BackgroundService
{
    private const int Batch = 500;

    /// <summary>One sweep: answers how many files it removed.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        var total = 0;
        while (true)
        {
            var ids = await FileTable.SweepAsync(db, Batch, ct);
            foreach (var id in ids)
            {
                await objects.DeleteFileAsync(id, ct);
            }
            total += ids.Count;
            if (ids.Count < Batch)
            {
                return total;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await SweepOnceAsync(stoppingToken) is > 0 and var swept)
                {
                    logger.LogInformation("Swept {Count} files never attached", swept);
                }
            }
            catch (Exception e) when (e is NpgsqlException or IOException or ObjectStoreUnavailable)
            {
                logger.LogWarning(e, "Sweeping expired files failed; trying again in {Interval}", settings.SweepInterval);
            }
        }
    }
}
