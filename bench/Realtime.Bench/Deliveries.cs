using System.Globalization;

namespace EventSourcedChat.RealtimeBench;

/// <summary>One delivery of a bench message to one client: when its POST was sent and when the frame arrived.</summary>
internal readonly record struct Sample(int Run, int Channel, long Seq, long Sent, long Received);

/// <summary>What one client received in the current run, per channel: seqs seen (duplicates, order) and samples.</summary>
internal sealed class ClientTrack
{
    public Lock Gate { get; } = new();

    public Dictionary<int, ChannelTrack> Channels { get; } = [];

    public List<Sample> Samples { get; } = [];
}

internal sealed class ChannelTrack
{
    public long Last;

    public HashSet<long> Seen { get; } = [];
}

/// <summary>
/// Counts every bench message a client receives, over the whole bench: latency samples (tagged with the run that
/// posted the message), duplicates (a seq seen twice by one client in one channel), out-of-order (a seq below one
/// already seen) and, against the posts the API acknowledged, lost deliveries (an online member that never got a
/// posted seq). Nothing is forgotten between runs, so a delivery that arrives after its run's drain still counts.
/// </summary>
internal sealed class Deliveries(IReadOnlyDictionary<string, int> channelIndex, int clients)
{
    /// <summary>
    /// Runs counted (each rate of a sweep is one, and so is every round of the scenarios' warm-up, up to about 180 when
    /// the warm-up waits its whole 90 s for the host's GC to settle).
    /// </summary>
    private const int MaxRuns = 1024;
    private readonly ClientTrack[] _clients = [.. Enumerable.Range(0, clients).Select(_ => new ClientTrack())];
    private readonly Lock _postedGate = new();
    private readonly List<(int Run, int Channel, long Seq)> _posted = [];
    private readonly long[] _received = new long[MaxRuns];
    private long _duplicates;
    private long _outOfOrder;

    /// <summary>Deliveries of one run's messages received so far.</summary>
    public long Received(int run) => Interlocked.Read(ref _received[run]);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    /// <summary>The text of a bench message: run number and the Stopwatch timestamp taken just before its POST.</summary>
    public static string Text(int run, long sent) => string.Create(CultureInfo.InvariantCulture, $"rt {run} {sent}");

    public void Posted(int run, int channel, long seq)
    {
        if (run >= MaxRuns)
        {
            throw new InvalidOperationException($"run {run}: the bench counts the deliveries of {MaxRuns} runs at most");
        }
        lock (_postedGate)
        {
            _posted.Add((run, channel, seq));
        }
    }

    public IReadOnlyList<(int Channel, long Seq)> PostedIn(int run)
    {
        lock (_postedGate)
        {
            return [.. _posted.Where(p => p.Run == run).Select(p => (p.Channel, p.Seq))];
        }
    }

    /// <summary>Called from a client's receive loop (one thread per client at a time).</summary>
    public void OnReceived(HubSocket socket, Posted message, long at)
    {
        var parts = message.Text.Split(' ');
        if (parts.Length != 3 || parts[0] != "rt" || !channelIndex.TryGetValue(message.ChannelId, out var channel))
        {
            return;
        }
        var run = int.Parse(parts[1], CultureInfo.InvariantCulture);
        if (run >= MaxRuns)
        {
            return; // not counted: Posted refuses such a run, which ends the bench
        }
        var sent = long.Parse(parts[2], CultureInfo.InvariantCulture);
        var client = _clients[socket.Index];
        lock (client.Gate)
        {
            if (!client.Channels.TryGetValue(channel, out var track))
            {
                client.Channels[channel] = track = new ChannelTrack();
            }
            if (!track.Seen.Add(message.Seq))
            {
                Interlocked.Increment(ref _duplicates);
                return;
            }
            if (message.Seq < track.Last)
            {
                Interlocked.Increment(ref _outOfOrder);
            }
            else
            {
                track.Last = message.Seq;
            }
            client.Samples.Add(new Sample(run, channel, message.Seq, sent, at));
        }
        Interlocked.Increment(ref _received[run]);
    }

    /// <summary>Deliveries owed for a run: every acknowledged post times the online members of its channel.</summary>
    public long Expected(int run, Func<int, IReadOnlyList<int>> onlineMembers) =>
        PostedIn(run).Sum(p => (long)onlineMembers(p.Channel).Count);

    /// <summary>A run's acknowledged posts that an online member of the channel has not received (yet).</summary>
    public long Lost(int run, Func<int, IReadOnlyList<int>> onlineMembers)
    {
        long lost = 0;
        foreach (var (channel, seq) in PostedIn(run))
        {
            foreach (var member in onlineMembers(channel))
            {
                var client = _clients[member];
                lock (client.Gate)
                {
                    if (!client.Channels.TryGetValue(channel, out var track) || !track.Seen.Contains(seq))
                    {
                        lost++;
                    }
                }
            }
        }
        return lost;
    }

    public List<Sample> Samples(int run)
    {
        var all = new List<Sample>();
        foreach (var client in _clients)
        {
            lock (client.Gate)
            {
                all.AddRange(client.Samples.Where(s => s.Run == run));
            }
        }
        return all;
    }
}
