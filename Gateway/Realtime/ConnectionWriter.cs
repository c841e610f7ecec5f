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
    /// <summary>Writes (or queues behind the writes before it); false when the write failed at once.</summary>
    public bool Write(SerializedHubMessage payload)
    {
        ValueTask written;
        try
        {
            written = connection.WriteAsync(payload);
        }
#pragma warning disable CA1031 // a failed send to one connection must not disturb the others; the connection is going away
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogDebug(e, "Sending to connection {ConnectionId} failed", connection.ConnectionId);
            return false;
        }
        if (written.IsCompletedSuccessfully)
        {
            return true;
        }
        if (written.IsFaulted || written.IsCanceled)
        {
            _ = ObserveAsync(written);
            return false;
        }
        _ = ObserveAsync(written);
        return true;
    }

    /// <summary>The size of a frame in this connection's protocol (serialized once per protocol, then cached by the message).</summary>
    public int FrameBytes(SerializedHubMessage payload) => payload.GetSerializedMessage(connection.Protocol).Length;

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
