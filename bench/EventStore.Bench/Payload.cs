using System.Text;
using System.Text.Json;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Bench;

/// <summary>What every benchmark event carries: about 200 bytes of JSON data and the store's usual metadata.</summary>
public static class Payload
{
    public const int DataBytes = 200;
    public const string EventType = "MessagePosted";

    /// <summary>A chat message of exactly <see cref="DataBytes"/> UTF-8 bytes.</summary>
    public static string Data { get; } = BuildData();

    public static EventMetadata Metadata { get; } = new("user-000042", "corr-" + Guid.NewGuid().ToString("N"), null);

    /// <summary>The metadata document as <see cref="PostgresEventStore"/> stores it (same fields, same size),
    /// for the baseline rows.</summary>
    public static string StoredMetadata { get; } = JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["actor"] = Metadata.Actor,
        ["correlationId"] = Metadata.CorrelationId,
        ["causationId"] = Metadata.CausationId,
        ["at"] = DateTime.UtcNow,
    });

    public static EventData[] Events(int count)
    {
        var events = new EventData[count];
        for (var i = 0; i < count; i++)
        {
            events[i] = new EventData(Guid.CreateVersion7(), EventType, Data);
        }
        return events;
    }

    private static string BuildData()
    {
        const string head = "{\"channelId\":\"8d0c6f5e-2b1a-4c7e-9f3d-5a6b7c8d9e0f\",\"authorId\":\"user-000042\",\"mentions\":[],\"text\":\"";
        const string tail = "\"}";
        var text = new StringBuilder();
        const string words = "the quick brown fox jumps over the lazy dog while the chat server keeps every event in order ";
        while (Encoding.UTF8.GetByteCount(head) + text.Length + tail.Length < DataBytes)
        {
            text.Append(words[text.Length % words.Length]);
        }
        var data = head + text + tail;
        using var _ = JsonDocument.Parse(data); // valid JSON, or fail early
        return data;
    }
}
