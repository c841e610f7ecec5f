namespace EventSourcedChat.Projections.Push;

/// <summary>Settings under <c>Realtime</c> that the push worker reads.</summary>
public sealed class PushOptions
{
    /// <summary>The direct exchange events are sent to (<c>Realtime:Exchange</c>).</summary>
    public string Exchange { get; set; } = "chat.events";

    /// <summary><c>ConnectionStrings:RabbitMq</c>.</summary>
    public Uri RabbitMq { get; set; } = new("amqp://esc:esc@127.0.0.1:55672/");

    /// <summary>
    /// Longest wait for the broker to confirm a batch (<c>Realtime:PushConfirmTimeout</c>); past it the batch is sent
    /// again from the checkpoint.
    /// </summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public const string CheckpointName = "push";
}
