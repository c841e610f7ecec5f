using System.Collections.Concurrent;
using System.Text;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Passes every message on to the inner bus, except that a failed test's message gets the host log entries recorded in
/// <see cref="HostLogSink"/> since that test started (the last <see cref="MaxEntries"/>) appended to its output, with
/// the test order seed. Passing tests get nothing added. Also marks each test's start and failure in host-logs.txt.
/// </summary>
public sealed class HostLogAttachingMessageBus(IMessageBus inner, int seed) : IMessageBus
{
    public const int MaxEntries = 200;

    public const string Heading = "host logs (warning and above) during this test:";

    private readonly ConcurrentDictionary<ITest, long> _started = new(ReferenceEqualityComparer.Instance);

    public bool QueueMessage(IMessageSinkMessage message)
    {
        switch (message)
        {
            case ITestStarting starting:
                _started[starting.Test] = HostLogSink.Position;
                HostLogSink.Mark($"{starting.Test.DisplayName} starting");
                break;
            case ITestFailed failed:
                HostLogSink.Mark($"{failed.Test.DisplayName} failed");
                message = WithHostLogs(failed);
                break;
            case ITestFinished finished:
                _started.TryRemove(finished.Test, out _);
                break;
        }
        return inner.QueueMessage(message);
    }

    public void Dispose() => inner.Dispose();

    private TestFailed WithHostLogs(ITestFailed failed)
    {
        var from = _started.TryGetValue(failed.Test, out var position) ? position : HostLogSink.Position;
        var (entries, omitted) = HostLogSink.Since(from, MaxEntries);
        var output = new StringBuilder(failed.Output);
        if (output.Length > 0 && output[^1] != '\n')
        {
            output.AppendLine();
        }
        output.AppendLine();
        output.AppendLine($"test order seed {seed} ({TestSeed.Variable}={seed} ./test.sh reproduces the order)");
        output.AppendLine(Heading);
        if (omitted > 0)
        {
            output.AppendLine($"({omitted} earlier entries left out)");
        }
        if (entries.Count == 0)
        {
            output.AppendLine("(none)");
        }
        foreach (var entry in entries)
        {
            output.AppendLine(entry.ToString());
        }
        return new TestFailed(failed.Test, failed.ExecutionTime, output.ToString(), failed.ExceptionTypes, failed.Messages, failed.StackTraces, failed.ExceptionParentIndices);
    }
}
