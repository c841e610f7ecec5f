using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

/// <summary>
/// Who learns of an append, and how: the appending process's own readers at its commit, without the round trip through
/// PostgreSQL; every other process through <c>NOTIFY es_events</c>.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AppendWakeUps(PostgresFixture db) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task An_append_wakes_the_readers_of_its_own_process_even_when_its_listener_is_not_connected()
    {
        // This process's listener never connects (not started): only the store's own signal can complete the ticket.
        var here = new AppendNotifier(db.DataSource, NullLogger<AppendNotifier>.Instance);
        var store = new PostgresEventStore(db.DataSource, new EventStoreOptions(), TimeProvider.System, notifier: here);
        var ticket = here.NextAppend;

        await store.AppendAsync("wake-here", ExpectedVersion.Any, [Event()]);

        await ticket.WaitAsync(Bound);
    }

    [Fact]
    public async Task An_append_still_wakes_the_readers_of_another_process_through_the_database()
    {
        var here = new AppendNotifier(db.DataSource, NullLogger<AppendNotifier>.Instance);
        var store = new PostgresEventStore(db.DataSource, new EventStoreOptions(), TimeProvider.System, notifier: here);
        using var stop = new CancellationTokenSource();
        var elsewhere = new AppendNotifier(db.DataSource, NullLogger<AppendNotifier>.Instance);
        await elsewhere.StartAsync(stop.Token);
        try
        {
            // The listener signals once it listens ("anything appended while we were not listening"): wait for that
            // first, so the ticket taken after it can only complete with the append's notification.
            await elsewhere.NextAppend.WaitAsync(Bound);
            var ticket = elsewhere.NextAppend;

            await store.AppendAsync("wake-elsewhere", ExpectedVersion.Any, [Event()]);

            await ticket.WaitAsync(Bound);
        }
        finally
        {
            await stop.CancelAsync();
            await elsewhere.StopAsync(CancellationToken.None);
        }
    }
}
