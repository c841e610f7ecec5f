using System.Text.Json;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>What a handler knows about the event it applies, and where it queues its SQL.</summary>
public sealed class EventContext
{
    private readonly NpgsqlBatch _batch;

    private readonly List<object?[]> _rows = [];
    private RowStatement? _pending;

    internal EventContext(NpgsqlBatch batch) => _batch = batch;

    internal RecordedEvent Current { get; set; } = null!;

    /// <summary>The event's version in its stream: for channel events, the message <c>seq</c>.</summary>
    public long Seq => Current.Version;

    public long Position => Current.Position;

    public string StreamId => Current.StreamId;

    public DateTimeOffset At => Current.CreatedAt;

    /// <summary>The user who caused the event (metadata <c>actor</c>).</summary>
    public string? Actor
    {
        get
        {
            using var doc = JsonDocument.Parse(Current.Metadata);
            return doc.RootElement.TryGetProperty("actor", out var a) ? a.GetString() : null;
        }
    }

    /// <summary>Queues one statement with positional parameters ($1, $2, ...); null becomes SQL NULL.</summary>
    public void Sql(string sql, params object?[] args)
    {
        Flush();
        var command = new NpgsqlBatchCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(arg switch
            {
                null => new NpgsqlParameter { Value = DBNull.Value },
                string[] array => new NpgsqlParameter<string[]> { TypedValue = array },
                _ => new NpgsqlParameter { Value = arg },
            });
        }
        _batch.BatchCommands.Add(command);
    }

    /// <summary>Queues one row of a <see cref="RowStatement"/>; consecutive rows of the same statement go as one.</summary>
    public void Row(RowStatement statement, params object?[] values)
    {
        statement.Check(values);
        if (!ReferenceEquals(_pending, statement))
        {
            Flush();
            _pending = statement;
        }
        _rows.Add(values);
    }

    /// <summary>Sends the pending run of rows, if any, as one statement.</summary>
    internal void Flush()
    {
        if (_pending is null)
        {
            return;
        }
        _batch.BatchCommands.Add(_pending.Build(_rows));
        _pending = null;
        _rows.Clear();
    }
}
