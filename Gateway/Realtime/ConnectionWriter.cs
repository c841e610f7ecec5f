using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Writes pre-serialized hub messages straight to one SignalR connection, in the order of the calls.
/// </summary>
/// <remarks>
/// <see cref="HubConnectionContext.WriteAsync(SerializedHubMessage, CancellationToken)"/> takes the connection's write
/// lock at once when it is free and otherwise queues behind the writes before it (first come, first served), so
/// the order of the calls is the order on the wire, without a queue or a pump task of our own per connection. The
/// caller (<see cref="ConnectionState"/>) calls it under its own lock.
/// </remarks>
internal sealed class ConnectionWriter(HubConnectionContext connection, ILogger logger)
{
    public void Write(SerializedHubMessage payload)
    {
        var written = connection.WriteAsync(payload);
        if (!written.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(written);
        }
    }

    private async Task ObserveAsync(ValueTask written)
    {
        try
        {
            await written;
        }
#pragma warning disable CA1031 // a failed send to one connection must not disturb the others; the connection is going away
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogDebug(e, "Sending to connection {ConnectionId} failed", connection.ConnectionId);
        }
    }
}
