using System.Threading.Channels;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// One ordered queue of sends to clients for presence and typing: Redis pub/sub callbacks and presence snapshots
/// enqueue here and one loop (run by <see cref="PresenceListener"/>) awaits each in turn, so a connection sees
/// changes in the order Redis published them and a snapshot never overtakes a newer change.
/// </summary>
public sealed class SerialDispatch(ILogger<SerialDispatch> logger)
{
    private readonly Channel<Func<Task>> _queue = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(Func<Task> work) => _queue.Writer.TryWrite(work);

    public async Task RunAsync(CancellationToken ct)
    {
        await foreach (var work in _queue.Reader.ReadAllAsync(ct))
        {
            try
            {
                await work();
            }
#pragma warning disable CA1031 // one failed send (a connection that just closed) must not stop delivery to everyone else
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogWarning(e, "A presence or typing send failed");
            }
        }
    }
}
