using System.Text;
using Microsoft.Extensions.Logging;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>One log entry of an in-process test host.</summary>
public sealed record HostLogEntry(long Position, DateTime AtUtc, string Host, string Category, LogLevel Level, string Message, Exception? Exception)
{
    public override string ToString()
    {
        var text = new StringBuilder($"{AtUtc:yyyy-MM-ddTHH:mm:ss.fffZ} {Host} {Level} {Category}: {Message}");
        if (Exception is not null)
        {
            text.Append('\n').Append("    ").Append(Exception.ToString().Replace("\n", "\n    "));
        }
        return text.ToString();
    }
}

/// <summary>
/// Where every <see cref="ChatHost"/> of the test process records its warnings and errors (see
/// <see cref="HostLogProvider"/>): a bounded, thread-safe in-memory buffer that <see cref="HostLogAttachingMessageBus"/>
/// reads back when a test fails, and, when ESC_TEST_LOG_DIR is set, the file host-logs.txt in that folder (so a stalled
/// run leaves a trace even if no test fails).
/// </summary>
public static class HostLogSink
{
    public const string LogDirVariable = "ESC_TEST_LOG_DIR";

    /// <summary>How many entries the buffer keeps; older ones are dropped.</summary>
    public const int Capacity = 20_000;

    private static readonly Lock Gate = new();
    private static readonly Queue<HostLogEntry> Entries = new();
    private static readonly StreamWriter? File = OpenFile();
    private static long _next;

    /// <summary>The position the next entry gets: entries logged from now on have a position at least this.</summary>
    public static long Position
    {
        get
        {
            lock (Gate)
            {
                return _next;
            }
        }
    }

    public static void Add(string host, string category, LogLevel level, string message, Exception? exception)
    {
        lock (Gate)
        {
            var entry = new HostLogEntry(_next++, DateTime.UtcNow, host, category, level, message, exception);
            Entries.Enqueue(entry);
            if (Entries.Count > Capacity)
            {
                Entries.Dequeue();
            }
            try
            {
                File?.WriteLine(entry.ToString());
            }
            catch (IOException)
            {
                // A full disk must not fail the host that logs; the in-memory buffer still has the entry.
            }
        }
    }

    /// <summary>A line in host-logs.txt only (not an entry): which test starts or failed, to read the file by.</summary>
    public static void Mark(string text)
    {
        lock (Gate)
        {
            try
            {
                File?.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} ---- {text}");
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// The entries at or after <paramref name="position"/> still in the buffer (the last <paramref name="max"/> of them),
    /// and how many of them were left out (dropped from the buffer or over <paramref name="max"/>).
    /// </summary>
    public static (IReadOnlyList<HostLogEntry> Entries, long Omitted) Since(long position, int max)
    {
        lock (Gate)
        {
            var since = Entries.Where(e => e.Position >= position).ToList();
            var total = Math.Max(0, _next - position);
            var kept = since.Count > max ? since.GetRange(since.Count - max, max) : since;
            return (kept, total - kept.Count);
        }
    }

    private static StreamWriter? OpenFile()
    {
        var dir = Environment.GetEnvironmentVariable(LogDirVariable);
        if (string.IsNullOrWhiteSpace(dir))
        {
            return null;
        }
        System.IO.Directory.CreateDirectory(dir);
        var stream = new FileStream(Path.Combine(dir, "host-logs.txt"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
    }
}
