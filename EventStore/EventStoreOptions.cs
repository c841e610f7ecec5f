namespace EventSourcedChat.EventStore;

public sealed class EventStoreOptions
{
    public int MaxStreamIdLength { get; set; } = 200;
    public int MaxTypeLength { get; set; } = 200;
    public int MaxEventsPerAppend { get; set; } = 1_000;

    /// <summary>Largest JSON document accepted as one event's data, in UTF-8 bytes.</summary>
    public int MaxEventBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>How often a live subscription polls when no notification arrives.</summary>
    public TimeSpan FallbackPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Events per read while catching up.</summary>
    public int SubscriptionBatchSize { get; set; } = 1_000;
}
