using EventSourcedChat.EventStore;

namespace EventSourcedChat.Tests.Dependencies;

public sealed class BackoffDelays
{
    [Fact]
    public void Delays_double_within_a_jitter_band_up_to_the_bound_and_start_again_after_a_reset()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));
        for (var run = 0; run < 50; run++)
        {
            var delays = Enumerable.Range(0, 12).Select(_ => backoff.Next().TotalMilliseconds).ToList();
            for (var n = 0; n < delays.Count; n++)
            {
                var ceiling = Math.Min(10_000, 200 * Math.Pow(2, n));
                Assert.InRange(delays[n], ceiling / 2, ceiling);
            }
            backoff.Reset();
        }
    }

    [Fact]
    public void Two_loops_failing_together_do_not_retry_in_step()
    {
        var first = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));
        var second = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));
        var same = Enumerable.Range(0, 10).Count(_ => first.Next() == second.Next());

        Assert.True(same < 3, $"{same} of 10 delays were equal");
    }

    [Fact]
    public void A_connection_string_without_a_timeout_gets_the_short_connect_timeout_and_one_with_a_timeout_keeps_it()
    {
        var options = new ResilienceOptions();

        Assert.Equal(2, new Npgsql.NpgsqlConnectionStringBuilder(options.WithConnectTimeout("Host=127.0.0.1;Port=1")).Timeout);
        Assert.Equal(7, new Npgsql.NpgsqlConnectionStringBuilder(options.WithConnectTimeout("Host=127.0.0.1;Port=1;Timeout=7")).Timeout);
        Assert.Equal(9, new Npgsql.NpgsqlConnectionStringBuilder(options.WithConnectTimeout("Host=127.0.0.1;Port=1;timeout=9")).Timeout);
    }
}
