namespace EventSourcedChat.EventStore;

/// <summary>The stream was not at the expected version; nothing was written.</summary>
public sealed class WrongExpectedVersionException(string stream, ExpectedVersion expected, long actualVersion)
    : Exception($"Stream '{stream}' is at version {actualVersion}, expected {expected}.")
{
    public string Stream { get; } = stream;
    public ExpectedVersion Expected { get; } = expected;
    public long ActualVersion { get; } = actualVersion;
}

/// <summary>Some, but not all, of the appended event ids are already in the stream; nothing was written.</summary>
public sealed class EventIdConflictException(string stream, string message) : Exception(message)
{
    public string Stream { get; } = stream;
}

/// <summary>The append was malformed (stream name, event list, type, size or JSON); nothing was written.</summary>
public sealed class InvalidAppendException(string message) : ArgumentException(message);
