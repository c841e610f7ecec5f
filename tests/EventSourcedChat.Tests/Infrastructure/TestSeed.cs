using System.Globalization;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The seed the test order is shuffled from: ESC_TEST_SEED when set (./test.sh always sets it), otherwise one drawn at
/// random when the test run starts (a plain <c>dotnet test</c>), which <see cref="ShuffledTestAssemblyRunner"/> then
/// announces.
/// </summary>
public static class TestSeed
{
    public const string Variable = "ESC_TEST_SEED";

    private static readonly Lazy<(int Value, bool Drawn)> Seed = new(Read);

    /// <summary>The seed of this run.</summary>
    public static int Value => Seed.Value.Value;

    /// <summary>True when ESC_TEST_SEED was not set and the seed was drawn by this process.</summary>
    public static bool Drawn => Seed.Value.Drawn;

    /// <summary>How to run the same order again, for messages.</summary>
    public static string Reproduce => $"{Variable}={Value} ./test.sh reproduces it";

    private static (int, bool) Read()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return (Random.Shared.Next(1, 1_000_000), true);
        }
        if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
        {
            throw new InvalidOperationException($"{Variable}='{text}' is not an integer.");
        }
        return (seed, false);
    }
}
