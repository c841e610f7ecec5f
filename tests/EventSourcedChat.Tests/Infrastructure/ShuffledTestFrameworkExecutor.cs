using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>xunit's executor, running the test cases with <see cref="ShuffledTestAssemblyRunner"/>.</summary>
public sealed class ShuffledTestFrameworkExecutor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
    : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
{
    protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
    {
        using var runner = new ShuffledTestAssemblyRunner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
        await runner.RunAsync();
    }
}
