using System.Collections.Concurrent;
using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>The push worker sends a batch with many sends in flight: a queue bound to many channels still gets log order.</summary>
public sealed class PushOrder(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task A_burst_of_events_in_many_channels_reaches_a_bound_queue_in_log_order_each_once()
    {
        var channels = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        var uri = Host.Services.GetRequiredService<IConfiguration>().GetConnectionString("RabbitMq") ?? "amqp://esc:esc@127.0.0.1:55672/";
        var exchange = $"chat.events.{PostgresFixture.DatabaseName}";
        await using var connection = await new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: true, autoDelete: false);
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        foreach (var c in channels)
        {
            await channel.QueueBindAsync(queue, exchange, c);
        }
        var received = new ConcurrentQueue<PushMessage>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            received.Enqueue(JsonSerializer.Deserialize<PushMessage>(delivery.Body.Span, EventTypes.Json)!);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer);

        // 1,200 events, round-robin over the 40 channels, become visible at once (one transaction): the push worker
        // reads them as one batch (or two) and has hundreds of sends in flight.
        var store = Db.CreateStore();
        await store.InTransactionAsync(async (tx, ct) =>
        {
            for (var round = 0; round < 30; round++)
            {
                foreach (var c in channels)
                {
                    await store.AppendAsync(tx, PushRouting.ChannelStreamPrefix + c, ExpectedVersion.Any,
                        [new EventData(Guid.NewGuid(), "message.edited.v1", $$"""{"channelId":"{{c}}","seq":{{round + 1}},"text":"r{{round}}"}""")], null, ct);
                }
            }
            return 0;
        });
        // A second burst from concurrent writers, so the log order interleaves transactions too.
        await Task.WhenAll(channels.Select(async c =>
        {
            for (var i = 0; i < 5; i++)
            {
                await store.AppendAsync(PushRouting.ChannelStreamPrefix + c, ExpectedVersion.Any,
                    [new EventData(Guid.NewGuid(), "message.edited.v1", $$"""{"channelId":"{{c}}","seq":{{31 + i}},"text":"c{{i}}"}""")]);
            }
        }));

        await using var cmd = Db.DataSource.CreateCommand("select position from es_events where stream_id = any($1) order by tx_id, position");
        cmd.Parameters.AddWithValue(channels.Select(c => PushRouting.ChannelStreamPrefix + c).ToArray());
        var expected = new List<long>();
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                expected.Add(reader.GetInt64(0));
            }
        }
        Assert.Equal(1_400, expected.Count);
        await Eventually.Until(() => Task.FromResult(received.Count), n => n >= expected.Count, TimeSpan.FromSeconds(30), "every event on the bound queue");
        Assert.Equal(expected, received.Select(m => m.LogPosition));
    }
}
