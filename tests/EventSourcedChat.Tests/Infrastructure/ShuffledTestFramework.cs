using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("EventSourcedChat.Tests.Infrastructure.ShuffledTestFramework", "EventSourcedChat.Tests")]

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// xunit's own framework, but run by <see cref="ShuffledTestAssemblyRunner"/>: collections, the classes of each
/// collection and the test cases of each class in an order shuffled from <see cref="TestSeed"/>, and host logs
/// attached to failing tests.
/// </summary>
public sealed class ShuffledTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new ShuffledTestFrameworkExecutor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);
}
