using StackExchange.Redis;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>One lazily opened multiplexer per process; a failed connect is retried on the next use.</summary>
public sealed class RedisConnection(IConfiguration configuration) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ConnectionMultiplexer? _multiplexer;

    public async Task<ConnectionMultiplexer> GetAsync()
    {
        if (_multiplexer is { } ready)
        {
            return ready;
        }
        await _gate.WaitAsync();
        try
        {
            if (_multiplexer is null)
            {
                var options = ConfigurationOptions.Parse(configuration.GetConnectionString("Redis") ?? "127.0.0.1:56379");
                options.AbortOnConnectFail = false;
                options.ConnectTimeout = 2000;
                options.SyncTimeout = 2000;
                _multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
            }
            return _multiplexer;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.CloseAsync();
            _multiplexer.Dispose();
        }
        _gate.Dispose();
    }
}
