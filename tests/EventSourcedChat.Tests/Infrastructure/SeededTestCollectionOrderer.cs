using Xunit.Abstractions;
using Xunit.Sdk;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Orders test collections by <see cref="SeededOrder"/> on their display names; collections defined with
/// DisableParallelization = true (the fault suite) still come after the others, as xunit runs them, shuffled among
/// themselves.
/// </summary>
public sealed class SeededTestCollectionOrderer(int seed) : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        SeededOrder.Shuffle(testCollections, seed, collection => collection.DisplayName)
            .OrderBy(RunsLast) // stable: the shuffled order holds within each part
            .ToList();

    private static bool RunsLast(ITestCollection collection) =>
        collection.CollectionDefinition?.GetCustomAttributes(typeof(CollectionDefinitionAttribute))
            .Any(a => a.GetNamedArgument<bool>(nameof(CollectionDefinitionAttribute.DisableParallelization))) == true;
}
