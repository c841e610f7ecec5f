using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

[Collection(PostgresCollection.Name)]
public sealed class BadInput(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore(options: new EventStoreOptions { MaxEventBytes = 1024 });

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string, string> Cases => new()
    {
        { "empty stream name", "" },
        { "blank stream name", "   " },
        { "over-long stream name", new string('s', 201) },
        { "no events", "s" },
        { "too large", "s" },
        { "invalid json", "s" },
        { "json with NUL", "s" },
        { "empty type", "s" },
        { "empty event id", "s" },
        { "the same id twice", "s" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Is_rejected_with_a_clear_exception_and_nothing_is_written(string @case, string stream)
    {
        var id = Guid.NewGuid();
        IReadOnlyList<EventData> events = @case switch
        {
            "no events" => [],
            "too large" => [Event(data: $$"""{"text":"{{new string('x', 2000)}}"}""")],
            "invalid json" => [Event(data: """{"text": oops}""")],
            "json with NUL" => [Event(data: """{"text":"a\u0000b"}""")],
            "empty type" => [Event(type: "")],
            "empty event id" => [new EventData(Guid.Empty, "t", "{}")],
            "the same id twice" => [new EventData(id, "t", "{}"), new EventData(id, "t", "{}")],
            _ => [Event()],
        };

        var e = await Assert.ThrowsAsync<InvalidAppendException>(() => _store.AppendAsync(stream, ExpectedVersion.Any, events));

        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.Empty(await _store.ReadAllAsync(0, 10));
    }
}
