using System.Text;
using System.Text.Json;

namespace EventSourcedChat.EventStore;

/// <summary>What an append writes besides its events' own fields: the checks of its input (stream name, event list,
/// types, sizes, JSON) and the metadata document stored with every event of it.</summary>
internal static class AppendInput
{
    public static void Validate(EventStoreOptions options, string stream, IReadOnlyList<EventData> events)
    {
        if (string.IsNullOrWhiteSpace(stream) || stream.Length > options.MaxStreamIdLength)
        {
            throw new InvalidAppendException($"A stream name has 1 to {options.MaxStreamIdLength} characters and is not blank.");
        }
        if (events is null || events.Count == 0)
        {
            throw new InvalidAppendException("An append needs at least one event.");
        }
        if (events.Count > options.MaxEventsPerAppend)
        {
            throw new InvalidAppendException($"An append holds at most {options.MaxEventsPerAppend} events.");
        }
        var ids = new HashSet<Guid>();
        foreach (var e in events)
        {
            if (e is null || e.EventId == Guid.Empty || !ids.Add(e.EventId))
            {
                throw new InvalidAppendException("Every event needs a non-empty id, unique within the append.");
            }
            if (string.IsNullOrWhiteSpace(e.Type) || e.Type.Length > options.MaxTypeLength)
            {
                throw new InvalidAppendException($"An event type has 1 to {options.MaxTypeLength} characters.");
            }
            if (e.Data is null || Encoding.UTF8.GetByteCount(e.Data) > options.MaxEventBytes)
            {
                throw new InvalidAppendException($"Event data is at most {options.MaxEventBytes} bytes of JSON.");
            }
            // PostgreSQL's jsonb cannot hold the NUL character, even escaped.
            if (!IsJson(e.Data) || e.Data.Contains("\\u0000", StringComparison.Ordinal))
            {
                throw new InvalidAppendException($"Event data of '{e.Type}' is not valid JSON.");
            }
        }
    }

    private static bool IsJson(string data)
    {
        try
        {
            using var doc = JsonDocument.Parse(data);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static string StoredMetadata(EventMetadata m, DateTimeOffset at)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("actor", m.Actor);
            w.WriteString("correlationId", m.CorrelationId);
            w.WriteString("causationId", m.CausationId);
            w.WriteString("at", at.UtcDateTime);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
