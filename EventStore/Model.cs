namespace EventSourcedChat.EventStore;

/// <summary>What the caller believes about the stream's version before an append.</summary>
public readonly record struct ExpectedVersion
{
    private ExpectedVersion(long value) => Value = value;

    /// <summary>The encoded form used by <c>es_append</c>: -1 any, -2 stream exists, 0 no stream, n exact.</summary>
    internal long Value { get; }

    public static ExpectedVersion Any { get; } = new(-1);
    public static ExpectedVersion StreamExists { get; } = new(-2);
    public static ExpectedVersion NoStream { get; } = new(0);

    /// <summary>The stream holds exactly <paramref name="version"/> events (0 means it holds none).</summary>
    public static ExpectedVersion Exactly(long version) =>
        version >= 0 ? new(version) : throw new ArgumentOutOfRangeException(nameof(version), version, "A version is 0 or more.");

    public override string ToString() => Value switch
    {
        -1 => "any",
        -2 => "stream exists",
        0 => "no stream",
        var v => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>An event to append. <paramref name="Data"/> is a JSON document.</summary>
public sealed record EventData(Guid EventId, string Type, string Data);

/// <summary>Who and what caused an append; stored with every event of the append.</summary>
public sealed record EventMetadata(string? Actor = null, string? CorrelationId = null, string? CausationId = null);

/// <summary>The stream's version after the append, the global position of its last event and when it was stored.</summary>
/// <param name="Duplicate">True when every event id was already in the stream: nothing was written and
/// this is the result of the first append.</param>
public sealed record AppendResult(long Version, long Position, bool Duplicate, DateTimeOffset CreatedAt);

/// <summary>A point in the subscription order (transaction id, then position). <see cref="Start"/> precedes every event.</summary>
public readonly record struct LogCursor(ulong TxId, long Position) : IComparable<LogCursor>
{
    public static LogCursor Start { get; } = new(0, 0);

    public int CompareTo(LogCursor other) =>
        TxId != other.TxId ? TxId.CompareTo(other.TxId) : Position.CompareTo(other.Position);

    public static bool operator <(LogCursor a, LogCursor b) => a.CompareTo(b) < 0;
    public static bool operator >(LogCursor a, LogCursor b) => a.CompareTo(b) > 0;
    public static bool operator <=(LogCursor a, LogCursor b) => a.CompareTo(b) <= 0;
    public static bool operator >=(LogCursor a, LogCursor b) => a.CompareTo(b) >= 0;
}

public sealed record RecordedEvent(
    long Position,
    ulong TxId,
    string StreamId,
    long Version,
    Guid EventId,
    string Type,
    string Data,
    string Metadata,
    DateTimeOffset CreatedAt,
    byte[] PrevHash,
    byte[] Hash,
    string? TraceParent = null)
{
    public LogCursor Cursor => new(TxId, Position);
}

public enum ReadDirection
{
    Forwards,
    Backwards,
}

/// <summary>The result of recomputing a stream's hash chain.</summary>
public sealed record StreamVerification(bool Ok, long Events, long? FirstBadVersion);
