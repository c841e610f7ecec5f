using System.Reflection;
using System.Text.Json;

namespace EventSourcedChat.Contracts.Events;

/// <summary>Maps stored type names (<c>message.posted.v1</c>) to event records and back, and (de)serializes event data.</summary>
public static class EventTypes
{
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<Type, EventTypeAttribute> ByType = typeof(EventTypes).Assembly.GetTypes()
        .Select(t => (Type: t, Attribute: t.GetCustomAttribute<EventTypeAttribute>()))
        .Where(x => x.Attribute is not null)
        .ToDictionary(x => x.Type, x => x.Attribute!);

    private static readonly Dictionary<string, Type> ByStoredType = ByType.ToDictionary(x => x.Value.StoredType, x => x.Key);

    public static IEnumerable<Type> All => ByType.Keys;

    public static string StoredTypeOf(Type type) => ByType.TryGetValue(type, out var a)
        ? a.StoredType
        : throw new ArgumentException($"{type.Name} has no [EventType].", nameof(type));

    /// <summary>The realtime envelope type: the stored name without its version (<c>message.posted</c>).</summary>
    public static string NameOf(Type type) => ByType[type].Name;

    public static Type? TypeOf(string storedType) => ByStoredType.GetValueOrDefault(storedType);

    public static string Serialize(object @event) => JsonSerializer.Serialize(@event, @event.GetType(), Json);

    /// <summary>The event record for stored data, or null for a type this build does not know.</summary>
    public static object? Deserialize(string storedType, string data) =>
        TypeOf(storedType) is { } type ? JsonSerializer.Deserialize(data, type, Json) : null;
}
