using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A deterministic shuffle: items are sorted by a hash of (seed, name), so the order is a pure function of the seed and
/// the names (independent of the order the items arrive in, of the process and of the machine), and another seed gives
/// another order. Items with equal names keep their relative order.
/// </summary>
public static class SeededOrder
{
    public static List<T> Shuffle<T>(IEnumerable<T> items, int seed, Func<T, string> name) =>
        items.Select(item => (Item: item, Name: name(item)))
            .OrderBy(x => Key(seed, x.Name))
            .ThenBy(x => x.Name, StringComparer.Ordinal) // OrderBy is stable: equal names keep their arrival order
            .Select(x => x.Item)
            .ToList();

    /// <summary>The sort key of <paramref name="name"/> under <paramref name="seed"/>: the first 8 bytes of SHA-256("seed:name").</summary>
    public static ulong Key(int seed, string name) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{name}")));
}
