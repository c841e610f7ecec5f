using EventSourcedChat.Gateway.Telemetry;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// One local hub connection: its channels and the resume hand-over state. Channel events are delivered in cursor
/// order, at most once: while a Resume replays, live ones are buffered; afterwards a live event at or below the last
/// delivered cursor is dropped.
/// </summary>
/// <remarks>
/// Events are written to the SignalR connection directly (<see cref="ConnectionWriter"/>), under this connection's lock,
/// pre-serialized (<see cref="LiveEvent"/>), and none before the connection's <c>hello</c> (<see cref="Hello"/>).
/// </remarks>
internal sealed class ConnectionState
{
    /// <summary>Positions delivered live before the first Resume are remembered (up to this many) so that the replay skips them.</summary>
    private const int MaxRememberedBeforeResume = 10_000;

    private readonly Lock _gate = new();
    private readonly ConnectionWriter _writer;
    private LogCursor _lastDelivered = LogCursor.Start;
    private List<LiveEvent>? _buffer = [];
    private bool _initial = true;
    private bool _recoveryPending;
    private readonly HandOverStats _stats;
    private readonly GatewayMetrics? _metrics;
    private HashSet<long>? _liveBeforeResume = [];
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<SerializedHubMessage>? _beforeHello = [];

    /// <param name="grace">How long live channel events are held after connecting, waiting for a Resume (clients call it
    /// right after connecting; holding them keeps the replay and live events in one order without a gap).</param>
    public ConnectionState(HubConnectionContext connection, string userId, TimeSpan grace, HandOverStats stats, ILogger logger, GatewayMetrics? metrics = null)
    {
        _stats = stats;
        _metrics = metrics;
        _writer = new ConnectionWriter(connection, logger);
        ConnectionId = connection.ConnectionId;
        UserId = userId;
        _ = Task.Delay(grace).ContinueWith(_ => EndGrace(), TaskScheduler.Default);
    }

    public string ConnectionId { get; }

    public string UserId { get; }

    /// <summary>The channels this connection receives; guarded by <see cref="ConnectionRegistry"/>'s lock.</summary>
    public HashSet<string> Channels { get; } = new(StringComparer.Ordinal);

    /// <summary>The workspaces whose members' profile changes (<c>user.updated</c>) this connection receives (guarded by the registry's lock).</summary>
    public HashSet<string> Workspaces { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The seq of the <c>member.joined</c> of each channel joined while connected (a replay reads those channels from
    /// there even before the directory has them); guarded by <see cref="ConnectionRegistry"/>'s lock.
    /// </summary>
    public Dictionary<string, long> JoinedSeqs { get; } = new(StringComparer.Ordinal);

    /// <summary>Completes when the connection's first Resume begins, or its grace ends without one.</summary>
    public Task Started => _started.Task;

    /// <summary>Serializes Resume calls of the connection.</summary>
    public SemaphoreSlim ResumeGate { get; } = new(1, 1);

    /// <summary>The last channel-event cursor handed to the client (for tests and diagnostics).</summary>
    public LogCursor LastDelivered
    {
        get
        {
            lock (_gate)
            {
                return _lastDelivered;
            }
        }
    }

    /// <summary>A live event from the broker, in queue (= cursor) order; answers what became of it (for the fan-out's span).</summary>
    public Offered OfferLive(LiveEvent live)
    {
        var message = live.Message;
        lock (_gate)
        {
            if (!message.IsChannelEvent)
            {
                return Write(live.Payload); // read.marker: not replayed, never held back (but after hello)
            }
            if (_buffer is not null)
            {
                _buffer.Add(live);
                if (!_initial)
                {
                    Interlocked.Increment(ref _stats.BufferedDuringReplay);
                }
                return Offered.Held;
            }
            if (live.Cursor <= _lastDelivered)
            {
                return Offered.Dropped; // already delivered (a second routing copy, a re-send after a worker crash, or replayed)
            }
            _lastDelivered = live.Cursor;
            if (_liveBeforeResume is { } seen)
            {
                if (seen.Count < MaxRememberedBeforeResume)
                {
                    seen.Add(message.LogPosition);
                }
            }
            var offered = Write(live.Payload);
            _metrics?.DeliveredLive(message.At);
            return offered;
        }
    }

    /// <summary>Sends the connection's <c>hello</c>, then what was held for it: nothing routed here goes out before it.</summary>
    public void Hello(RealtimeEnvelope hello)
    {
        lock (_gate)
        {
            if (_beforeHello is not { } held)
            {
                return;
            }
            _beforeHello = null;
            _writer.Write(LiveEvent.Serialize(hello));
            foreach (var payload in held)
            {
                _writer.Write(payload);
            }
        }
    }

    /// <summary>The size of a live event's frame on this connection (for the fan-out's span).</summary>
    public int FrameBytes(LiveEvent live) => _writer.FrameBytes(live.Payload);

    /// <summary>Starts buffering live channel events; answers the positions delivered live before (the replay skips them).</summary>
    public IReadOnlySet<long> BeginResume()
    {
        lock (_gate)
        {
            if (_initial)
            {
                // Resumed within the grace: nothing was delivered yet, the held live events stay buffered.
                _initial = false;
                _liveBeforeResume = null;
                _started.TrySetResult();
                return new HashSet<long>();
            }
            _buffer ??= [];
            var seen = _liveBeforeResume ?? [];
            _liveBeforeResume = null;
            return seen;
        }
    }

    /// <summary>
    /// Live events routed to the node may have been lost: the broker connection went down, or a channel was joined and
    /// bound after some of its events were sent. From now on live channel events are held (and a Resume ends without
    /// releasing them) until <see cref="TakeRecovery"/>'s hand-over ends, so that the last delivered cursor stays the
    /// point up to which the client has everything.
    /// </summary>
    public void HoldLive()
    {
        lock (_gate)
        {
            _recoveryPending = true;
            _buffer ??= [];
        }
    }

    /// <summary>
    /// Starts the hand-over after <see cref="HoldLive"/>: answers the cursor to replay after. False (nothing
    /// to do) when no loss was marked, or while the connection still waits for its first Resume, which reads the log.
    /// </summary>
    public bool TakeRecovery(out LogCursor lastDelivered)
    {
        lock (_gate)
        {
            lastDelivered = _lastDelivered;
            if (!_recoveryPending)
            {
                return false;
            }
            _recoveryPending = false;
            return !_initial;
        }
    }

    /// <summary>
    /// Starts the hand-over after a join held live events (<see cref="HoldLive"/>; only once <see cref="Started"/>):
    /// answers the cursor to replay after. That is the last delivered cursor; when nothing was delivered yet, just before
    /// the join or before the first held event, whichever is earlier (everything before both was offered live). False
    /// when another hand-over took it first.
    /// </summary>
    public bool TakeJoinHandOver(LogCursor joined, out LogCursor from)
    {
        lock (_gate)
        {
            from = _lastDelivered;
            if (!_recoveryPending)
            {
                return false;
            }
            _recoveryPending = false;
            if (from == LogCursor.Start)
            {
                var first = _buffer is { Count: > 0 } held && held[0].Cursor < joined ? held[0].Cursor : joined;
                from = new LogCursor(first.TxId, first.Position - 1);
            }
            return true;
        }
    }

    /// <summary>A replayed event (only between <see cref="BeginResume"/> or <see cref="TakeRecovery"/> and <see cref="EndResume"/>).</summary>
    public void Replay(PushMessage message)
    {
        lock (_gate)
        {
            // Replayed before the client's first Resume (a recovery): that Resume must skip it like a live one.
            if (_liveBeforeResume is { } seen && seen.Count < MaxRememberedBeforeResume)
            {
                seen.Add(message.LogPosition);
            }
            Write(LiveEvent.Serialize(message.ToEnvelope()));
            _metrics?.DeliveredReplayed();
        }
    }

    public void Send(RealtimeEnvelope envelope)
    {
        lock (_gate)
        {
            Write(LiveEvent.Serialize(envelope));
        }
    }

    /// <summary>Ends the hand-over: delivers buffered live events after <paramref name="lastReplayed"/>, in order, once each.</summary>
    public void EndResume(LogCursor lastReplayed)
    {
        lock (_gate)
        {
            if (_recoveryPending)
            {
                // The broker connection is down: keep holding live events for the recovery's hand-over.
                _lastDelivered = _lastDelivered > lastReplayed ? _lastDelivered : lastReplayed;
                return;
            }
            FlushAfter(_lastDelivered > lastReplayed ? _lastDelivered : lastReplayed);
        }
    }

    private void FlushAfter(LogCursor last)
    {
        foreach (var live in _buffer ?? [])
        {
            if (live.Cursor > last)
            {
                last = live.Cursor;
                Write(live.Payload);
                _metrics?.DeliveredLive(live.Message.At);
                Interlocked.Increment(ref _stats.Flushed);
            }
            else
            {
                Interlocked.Increment(ref _stats.DroppedAsDelivered);
            }
        }
        _lastDelivered = last;
        _buffer = null;
    }

    /// <summary>No Resume came within the grace: the held live events go out and live delivery starts.</summary>
    private void EndGrace()
    {
        lock (_gate)
        {
            if (_initial)
            {
                _initial = false;
                _started.TrySetResult();
                if (_recoveryPending)
                {
                    return; // released by the recovery's hand-over
                }
                FlushAfter(_lastDelivered);
            }
        }
    }

    /// <summary>Called under <see cref="_gate"/>, so calls (and frames) keep their order; held until <see cref="Hello"/>.</summary>
    private Offered Write(SerializedHubMessage payload)
    {
        if (_beforeHello is { } held)
        {
            held.Add(payload);
            return Offered.Held;
        }
        return _writer.Write(payload) ? Offered.Written : Offered.Failed;
    }
}
