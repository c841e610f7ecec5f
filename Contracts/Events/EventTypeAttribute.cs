namespace EventSourcedChat.Contracts.Events;

/// <summary>The name and schema version an event is stored under (<c>{Name}.v{Version}</c>), independent of the CLR name.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventTypeAttribute(string name, int version = 1) : Attribute
{
    public string Name { get; } = name;
    public int Version { get; } = version;
    public string StoredType => $"{Name}.v{Version}";
}
