using Xunit.Abstractions;
using Xunit.Sdk;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Orders test collections by <see cref="SeededOrder"/> on their display names, the fault suite's among them: collections
/// run one at a time (parallelization is off for the assembly), so none shares the machine with another wherever it runs.
/// </summary>
public sealed class SeededTestCollectionOrderer(int seed) : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        SeededOrder.Shuffle(testCollections, seed, collection => collection.DisplayName).ToList();
}
