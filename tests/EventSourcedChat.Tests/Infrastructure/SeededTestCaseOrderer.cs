using Xunit.Abstractions;
using Xunit.Sdk;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Orders the test cases of one class by <see cref="SeededOrder"/> on their display names (cases with the same display
/// name, such as theory rows that print alike, keep the order of their unique ids).
/// </summary>
public sealed class SeededTestCaseOrderer(int seed) : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        SeededOrder.Shuffle(testCases.OrderBy(tc => tc.UniqueID, StringComparer.Ordinal), seed, tc => tc.DisplayName);
}
