namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>Bounded waits for asynchronous results: poll a condition until it holds or the time is up.</summary>
public static class Eventually
{
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what ?? "a condition"}; last value: {value}");
            }
            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
        }
    }

    public static Task Until(Func<bool> condition, TimeSpan? timeout = null, string? what = null) =>
        Until(() => Task.FromResult(condition()), ok => ok, timeout, what);
}
