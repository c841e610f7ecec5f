using Xunit.Abstractions;
using Xunit.Sdk;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Runs the test collections in the order of <see cref="SeededTestCollectionOrderer"/>, hands each collection its test
/// cases shuffled by class and then by case, and reports failures through <see cref="HostLogAttachingMessageBus"/>. The same seed and the same tests give the same order.
/// </summary>
public sealed class ShuffledTestAssemblyRunner(
    ITestAssembly testAssembly,
    IEnumerable<IXunitTestCase> testCases,
    IMessageSink diagnosticMessageSink,
    IMessageSink executionMessageSink,
    ITestFrameworkExecutionOptions executionOptions)
    : XunitTestAssemblyRunner(testAssembly, testCases, diagnosticMessageSink, executionMessageSink, executionOptions)
{
    private readonly int _seed = TestSeed.Value;

    protected override string GetTestFrameworkEnvironment() => $"{base.GetTestFrameworkEnvironment()} [test order seed {_seed}]";

    protected override async Task AfterTestAssemblyStartingAsync()
    {
        await base.AfterTestAssemblyStartingAsync(); // reads the assembly's orderer attributes (there are none)
        TestCollectionOrderer = new SeededTestCollectionOrderer(_seed);
        Announce();
    }

    protected override IMessageBus CreateMessageBus() => new HostLogAttachingMessageBus(base.CreateMessageBus(), _seed);

    protected override Task<RunSummary> RunTestCollectionAsync(IMessageBus messageBus, ITestCollection testCollection, IEnumerable<IXunitTestCase> testCases, CancellationTokenSource cancellationTokenSource)
    {
        // The collection runner runs classes in the order their first test case arrives, and each class's cases in the
        // order of the test case orderer it is given.
        var caseOrderer = new SeededTestCaseOrderer(_seed);
        var byClass = SeededOrder.Shuffle(
                testCases.GroupBy(tc => tc.TestMethod.TestClass, TestClassComparer.Instance),
                _seed,
                group => group.Key.Class.Name)
            .SelectMany(group => caseOrderer.OrderTestCases(group))
            .ToList();
        return new XunitTestCollectionRunner(testCollection, byClass, DiagnosticMessageSink, messageBus, caseOrderer, new ExceptionAggregator(Aggregator), cancellationTokenSource).RunAsync();
    }

    /// <summary>
    /// Says which seed orders this run, as a diagnostic message (xunit.runner.json turns them on, so plain
    /// <c>dotnet test</c> prints it); every failing test's output repeats it.
    /// </summary>
    private void Announce() =>
        DiagnosticMessageSink.OnMessage(new DiagnosticMessage(
            $"test order seed {_seed}{(TestSeed.Drawn ? " (drawn here: ESC_TEST_SEED was not set)" : "")}; {TestSeed.Reproduce}"));
}
